import { assertEquals } from "../util/assert.ts";

const SCRIPT = new URL("./testdata/log_to_closed_stderr.ts", import.meta.url).pathname;

Deno.test("stderr sink: a log line to a stderr whose reader is gone does not stop the process", async () => {
  // A foreground run whose terminal closed (EIO), or `run | logger` whose reader ended (EPIPE):
  // the throw reached the control loop and the daemon ended without its exit rate.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=dev", SCRIPT],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await child.stderr.cancel();
  await child.stdin.close();
  const { code, stdout } = await child.output();
  assertEquals([code, new TextDecoder().decode(stdout).trim()], [0, "survived"]);
});
