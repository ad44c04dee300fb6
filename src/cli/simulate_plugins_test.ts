/**
 * What a Lua author sees running plugins through `simulate` (the walk of docs/plugins.md in the
 * thirtieth session): the same engine, loop and log lines as the daemon.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { simulateCommand } from "./simulate_command.ts";
import { runSubcommand } from "./testing.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { LOG_BURST_LINES, LOG_LINES_PER_S } from "../lua/log_budget.ts";

/**
 * `simulate` for `seconds` with `flags`; the Lua time limit generous (2 s) unless given, so a
 * busy test machine does not turn a script's call into a timeout.
 */
function simulateFor(
  seconds: number,
  flags: string[],
  options: { timeLimitMs?: number } = {},
): Promise<{ code: number; out: string; err: string }> {
  const args = [
    "--duration",
    String(seconds),
    "--lua-time-limit-ms",
    String(options.timeLimitMs ?? 2000),
    ...flags,
  ];
  return runSubcommand((io) => simulateCommand({ io, stderrIsTerminal: false }), args);
}

/** Writes each script into a fresh directory, runs `fn` with their paths, removes it. */
async function withScripts<T>(
  scripts: Record<string, string>,
  fn: (path: (name: string) => string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "sqma-plugins-" });
  try {
    for (const [name, text] of Object.entries(scripts)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    return await fn((name) => `${dir}/${name}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("simulate: a threshold a plugin sets is logged at INFO naming that plugin, not the plugin chain", async () => {
  await withScripts({
    "quiet.lua": 'return { name = "quiet", process = function() return {} end }\n',
    "thr.lua": 'local n = 0\nreturn { name = "thr", process = function()\n' +
      "  n = n + 1\n  if n == 3 then return { dl_max_delta_owd = 25 } end\n  return {}\nend }\n",
  }, async (path) => {
    const r = await simulateFor(5, [
      "--log-level",
      "INFO",
      "--plugin-scripts",
      path("quiet.lua"),
      "--plugin-scripts",
      path("thr.lua"),
    ]);
    assertEquals(r.code, ExitCode.OK, r.err);
    const lines = r.err.split("\n").filter((l) => l.includes("settings changed by plugin"));
    assertEquals(lines.length, 1, r.err);
    // Until the thirtieth session: "settings changed by plugin lua-plugins: …".
    assert(
      lines[0].includes("settings changed by plugin thr: dl_max_delta_owd: 15.0 -> 25.0"),
      lines[0],
    );
  });
});

Deno.test("simulate: a plugin with a byte-order mark and CRLF lines, or a #! first line, loads as with Lua's own loader; line numbers stay the file's", async () => {
  await withScripts({
    // Saved by an editor on Windows.
    "bom.lua":
      '\uFEFFlocal M = { name = "bom" }\r\nfunction M.process(r)\r\n  return {}\r\nend\r\n' +
      "return M\r\n",
    "shebang.lua": '#!/usr/bin/lua\nlocal M = { name = "shebang" }\n' +
      "function M.process(r)\n  return { next_ul_rate = r.nope + 1 }\nend\nreturn M\n",
  }, async (path) => {
    const r = await simulateFor(2, [
      "--plugin-scripts",
      path("bom.lua"),
      "--plugin-scripts",
      path("shebang.lua"),
    ]);
    assertEquals(r.code, ExitCode.OK, r.err);
    // Until the thirtieth session: "bom.lua:1: unexpected symbol near '<\239>'", "shebang.lua:1:
    // unexpected symbol near '#'", and neither plugin ran.
    assert(!r.err.includes("not loaded"), r.err);
    // The shebang plugin runs (and fails where the file says: line 4).
    assert(r.err.includes(`${path("shebang.lua")}:4: attempt to perform arithmetic`), r.err);
  });
});

Deno.test("simulate: a ratecontroller raising a table names its type and file:line, logged once, not once a tick", async () => {
  await withScripts({
    "errtable.lua":
      "local M = {}\nfunction M.calculate(d)\n  error({ code = 42 })\nend\nreturn M\n",
  }, async (path) => {
    const r = await simulateFor(5, ["--rate-controller", path("errtable.lua")]);
    assertEquals(r.code, ExitCode.OK, r.err);
    const lines = r.err.split("\n").filter((l) => l.includes("calculate() failed"));
    // Until the thirtieth session: "…: table: 0x11e0d8 | stack traceback: …", a new address (a
    // distinct error) every tick, so every tick logged its traceback.
    assertEquals(lines.length, 1, r.err);
    assert(lines[0].includes("(error object is a table value)"), lines[0]);
    assert(lines[0].includes(`${path("errtable.lua")}:3: in field 'calculate'`), lines[0]);
  });
});

Deno.test("simulate: a ratecontroller returning bad rates every few ticks, good ones between, warns once per distinct issue", async () => {
  await withScripts({
    "nan3.lua": "local M = {}\nlocal n = 0\nfunction M.calculate(d)\n  n = n + 1\n" +
      "  if n % 3 == 0 then return { next_dl_rate = 0/0, next_ul_rate = -1 } end\n" +
      "  if n % 3 == 1 then return { next_dl_rate = math.huge, next_ul_rate = d.cur_ul_rate } end\n" +
      "  return { next_dl_rate = d.cur_dl_rate, next_ul_rate = d.cur_ul_rate }\nend\nreturn M\n",
  }, async (path) => {
    const r = await simulateFor(20, ["--rate-controller", path("nan3.lua")]);
    assertEquals(r.code, ExitCode.OK, r.err);
    const warnings = r.err.split("\n").filter((l) => l.startsWith("[WARN"));
    // Until the thirtieth session only a repeat of the previous tick's warning was held back:
    // the good tick between reset it, and 20 s gave 26 warnings.
    assertEquals(warnings.length, 2, r.err);
    assert(warnings[0].includes("next_dl_rate is infinite (inf, math.huge); ignored"), warnings[0]);
    assert(
      warnings[1].includes("next_dl_rate is not a number (nan, as 0/0 gives); ignored"),
      warnings[1],
    );
  });
});

Deno.test("simulate: a plugin that replaces another plugin's global (both M = {} at the top) is named in a warning; local ones are not", async () => {
  const globalM = (name: string) =>
    `M = { name = "${name}" }\nfunction M.process(r) return {} end\nreturn M\n`;
  await withScripts({
    "ga.lua": globalM("ga"),
    "gb.lua": globalM("gb"),
    "la.lua": 'local M = { name = "la" }\nfunction M.process(r) return {} end\nreturn M\n',
  }, async (path) => {
    const r = await simulateFor(2, [
      "--plugin-scripts",
      path("la.lua"),
      "--plugin-scripts",
      path("ga.lua"),
      "--plugin-scripts",
      path("la.lua"),
      "--plugin-scripts",
      path("gb.lua"),
    ]);
    assertEquals(r.code, ExitCode.OK, r.err);
    const warnings = r.err.split("\n").filter((l) => l.startsWith("[WARN"));
    // Until the thirtieth session nothing was said: ga's process ran on gb's table.
    assertEquals(warnings.length, 1, r.err);
    assert(
      warnings[0].includes(
        `${path("gb.lua")}: sets the global M, which ${path("ga.lua")} sets too`,
      ),
      warnings[0],
    );
  });
});

Deno.test("simulate: a ratecontroller returning Mbit/s (80, 18) is warned once that rates are kbit/s", async () => {
  await withScripts({
    "mbit.lua":
      "local M = {}\nfunction M.calculate(d) return { next_dl_rate = 80, next_ul_rate = 18 } end\n" +
      "return M\n",
  }, async (path) => {
    const r = await simulateFor(5, ["--rate-controller", path("mbit.lua")]);
    assertEquals(r.code, ExitCode.OK, r.err);
    const warnings = r.err.split("\n").filter((l) => l.startsWith("[WARN"));
    // Until the thirtieth session: nothing, the rates bounded to the minimum without a word.
    assertEquals(warnings.length, 1, r.err);
    assert(
      warnings[0].includes("calculate() returned next_dl_rate = 80, 1 % of the base rate"),
      r.err,
    );
    assert(warnings[0].includes("rates are in kbit/s"), r.err);
  });
});

Deno.test("simulate: a plugin whose time limit fires only after a long pattern match returned is also told it was held in C", async () => {
  await withScripts({
    // The match backtracks for about 0.8 s in one C call; the loop after it meets the limit (150
    // ms, not 10: a loaded machine could deschedule the bridge's own code past a short limit
    // before the match ran, as check_config_overrun_test saw).
    "late.lua": 'return { name = "late", process = function(r)\n' +
      '  local found = ("a"):rep(200):find(".-.-.-b")\n' +
      "  local x = 0\n  for i = 1, 100000 do x = x + i end\n  return {}\nend }\n",
  }, async (path) => {
    const r = await simulateFor(1, ["--plugin-scripts", path("late.lua")], { timeLimitMs: 150 });
    assertEquals(r.code, ExitCode.OK, r.err);
    assert(r.err.includes("plugin late: process() failed (timeout)"), r.err);
    // Until the thirtieth session only the timeout, its traceback at the loop after the match.
    const warnings = r.err.split("\n").filter((l) => l.startsWith("[WARN"));
    assertEquals(warnings.length, 1, r.err);
    assert(warnings[0].includes("plugin late: process() took "), warnings[0]);
    assert(warnings[0].includes("inside a C function the limit cannot stop"), warnings[0]);
  });
});

Deno.test("simulate: a plugin printing in a loop is held to the log budget, the lines left out counted", async () => {
  await withScripts({
    "flood.lua": 'return { name = "flood", process = function(r)\n' +
      '  for i = 1, 100 do print("line", i) end\n  return {}\nend }\n',
  }, async (path) => {
    const r = await simulateFor(70, [
      "--rate-controller",
      "ewma",
      "--log-level",
      "INFO",
      "--plugin-scripts",
      path("flood.lua"),
    ]);
    assertEquals(r.code, ExitCode.OK, r.err);
    const lines = r.err.split("\n").filter((l) => l.includes("flood: line"));
    // 140 calls of 100 lines; until the thirtieth session all 14000 were written.
    assert(lines.length <= LOG_BURST_LINES + 70 * LOG_LINES_PER_S, `${lines.length} lines`);
    assert(lines.length >= 70 * LOG_LINES_PER_S, `${lines.length} lines`);
    const counts = r.err.split("\n").filter((l) => l.includes("more lines left out over"));
    assertEquals(counts.length, 1, counts.join("\n"));
    assert(counts[0].includes("flood: "), counts[0]);
  });
});
