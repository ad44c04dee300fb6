/**
 * The README's two pictures are what its commands draw today: `deno task demo` (docs/demo.svg)
 * and the simulate + plot pair under "Seeing what it does" (docs/plot-example.svg). Run as the
 * README shows them, in a subprocess with TZ=UTC (the plot's axis is UTC already; log lines are local).
 */
import { assert } from "../util/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function main(args: readonly string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=dev", `${ROOT}main.ts`, ...args],
    cwd: ROOT,
    env: { TZ: "UTC", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
}

async function assertSameFigure(doc: string, drawn: string, how: string): Promise<void> {
  const same = (await Deno.readTextFile(`${ROOT}${doc}`)) === (await Deno.readTextFile(drawn));
  assert(same, `${doc} is not what the README's command draws today; regenerate it: ${how}`);
}

Deno.test("README pictures: docs/demo.svg and docs/plot-example.svg match their commands", async () => {
  const dir = await Deno.makeTempDir({ prefix: "doc_figures_" });
  try {
    // deno task demo
    await main(["simulate", "--compare", "--svg", `${dir}/demo.svg`]);
    await assertSameFigure("docs/demo.svg", `${dir}/demo.svg`, "deno task demo");
    // README, "Plots"
    await main(["simulate", "--duration", "600", "--trace", "starlink", "--out", `${dir}/sim`]);
    await main([
      "plot",
      `${dir}/sim/stats.csv`,
      "--speed-hist",
      `${dir}/sim/speedhist.csv`,
      "--out",
      `${dir}/plot.svg`,
    ]);
    await assertSameFigure(
      "docs/plot-example.svg",
      `${dir}/plot.svg`,
      'the two commands under README.md\'s "Plots" (TZ=UTC)',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
