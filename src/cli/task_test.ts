import { assert, assertEquals } from "../util/assert.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** Runs `deno task start -- ARGS` from the checkout, as README shows it. */
async function taskStart(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "start", "--", ...args],
    cwd: repoRoot,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deno task start -- run --help: the `--` deno task passes on is dropped", async () => {
  const r = await taskStart(["run", "--help"]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("--upload-interface"), r.stdout);
});

Deno.test("deno task start -- show-settings with README's daemon flags is accepted", async () => {
  const r = await taskStart([
    "show-settings",
    "--upload-interface",
    "wan",
    "--download-interface",
    "ifb4wan",
    "--upload-base-kbits",
    "20000",
    "--download-base-kbits",
    "100000",
  ]);
  assertEquals(r.code, 0, r.stderr);
  assert(/ul_if: wan\b/.test(r.stdout), r.stdout);
});
