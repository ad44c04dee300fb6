import { assert, assertEquals } from "../util/assert.ts";
import { runCli } from "./mod.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { STATS_HEADER } from "../report/stats.ts";

function io() {
  const c = { out: "", err: "" };
  return {
    c,
    io: { out: (t: string) => void (c.out += t), err: (t: string) => void (c.err += t) },
  };
}

Deno.test("plot: stats file plus rotated copy and speed history give an SVG; bad files exit 65, an unwritable --out 73", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plot_cli_" });
  try {
    const stats = `${dir}/sqm-autorate.csv`;
    await Deno.writeTextFile(
      `${stats}.1`,
      `${STATS_HEADER}\n1700000000,0,0.5,0.5,1.0,2.0,40000,8000\n`,
    );
    await Deno.writeTextFile(
      stats,
      `${STATS_HEADER}\n1700000001,0,0.9,0.5,30.0,2.0,30000,8000\n1700000002,0,0.9`,
    );
    const hist = `${dir}/speedhist.csv`;
    await Deno.writeTextFile(hist, "time,counter,upspeed,downspeed\n0.000000,0,8000.0,40000.0\n");
    const out = `${dir}/p.svg`;
    const ok = io();
    const code = await runCli(
      ["plot", stats, "--speed-hist", hist, "--out", out, "--config", "/dev/null", "--dd", "20"],
      ok.io,
    );
    assertEquals(code, ExitCode.OK, ok.c.err);
    assert(ok.c.out.includes("2 ticks"), ok.c.out);
    assert(ok.c.err.includes(`${stats}: the last line is incomplete`), ok.c.err);
    const svg = await Deno.readTextFile(out);
    assert(svg.startsWith("<svg") && svg.includes("sqm-autorate.csv.1 + sqm-autorate.csv"));
    // --dd 20: one of two download delays (30 ms) is above the threshold
    assert(svg.includes("above threshold 50 % of ticks"), "threshold from the settings flag");

    const unwritable = io();
    assertEquals(
      await runCli(
        ["plot", stats, "--out", `${hist}/p.svg`, "--config", "/dev/null"],
        unwritable.io,
      ),
      ExitCode.CANT_CREATE,
    );
    assert(unwritable.c.err.includes(`cannot write ${hist}/p.svg:`), unwritable.c.err);

    await Deno.writeTextFile(stats, `${STATS_HEADER}\n1700000001,0,0.9,0.5,oops,2.0,30000,8000\n`);
    const bad = io();
    assertEquals(
      await runCli(["plot", stats, "--out", out, "--config", "/dev/null"], bad.io),
      ExitCode.DATA,
    );
    assert(
      bad.c.err.includes(`${stats}:2: column deltadelaydown is not a number: "oops"`),
      bad.c.err,
    );

    const missing = io();
    assertEquals(
      await runCli(["plot", `${dir}/none.csv`, "--out", out, "--config", "/dev/null"], missing.io),
      ExitCode.DATA,
    );
    assert(missing.c.err.includes("none.csv: cannot read: no such file"), missing.c.err);

    const noOut = io();
    assertEquals(await runCli(["plot", stats], noOut.io), ExitCode.USAGE);
    assert(noOut.c.err.includes("--out"), noOut.c.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
