/**
 * check-config and a Lua call held inside a C function past `lua_time_limit_ms` (docs/plugins.md,
 * "The sandbox"): the engine's instruction check cannot stop it, so the call returns late instead
 * of failing with a timeout.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { runCli } from "./mod.ts";
import { captureIo, REQUIRED } from "./testing.ts";
import { ExitCode } from "./../util/exit_codes.ts";

// ("a"):rep(120):find(".-.-.-b") backtracks for about 300 ms here (("a"):rep(300): about 30 s).
const BACKTRACK = 'return { name = "bt", process = function(r)\n' +
  '  local found = ("a"):rep(120):find(".-.-.-b")\n  return {}\nend }\n';
const BACKTRACK_RC = "local M = {}\nfunction M.calculate(d)\n" +
  '  local found = ("a"):rep(120):find(".-.-.-b")\n' +
  "  return { next_dl_rate = d.cur_dl_rate, next_ul_rate = d.cur_ul_rate }\nend\nreturn M\n";

Deno.test("check-config: a plugin or ratecontroller call held in a C function far past lua_time_limit_ms is an error naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-overrun-" });
  try {
    await Deno.writeTextFile(`${dir}/bt.lua`, BACKTRACK);
    await Deno.writeTextFile(`${dir}/bt_rc.lua`, BACKTRACK_RC);
    const io = captureIo();
    const code = await runCli([
      "check-config",
      ...REQUIRED,
      "--lua-time-limit-ms",
      // 40, not 10: on a loaded machine a 10 ms limit fired in the bridge's own code before the
      // pattern ran (four copies at once on two cores, one in four).
      "40",
      "--plugin-scripts",
      `${dir}/bt.lua`,
      "--rate-controller",
      `${dir}/bt_rc.lua`,
    ], io);
    // Until the thirtieth session: "configuration OK", exit 0.
    assertEquals(code, ExitCode.DATA, io.stderr);
    const errors = io.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assertEquals(errors.length, 2, io.stderr);
    assert(errors[0].startsWith("error: plugin bt: process() took "), errors[0]);
    assert(errors[0].includes("past lua_time_limit_ms (40 ms), inside a C function"), errors[0]);
    assert(errors[1].includes(`${dir}/bt_rc.lua: calculate() took `), errors[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
