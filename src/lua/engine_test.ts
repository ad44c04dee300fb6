import { assert, assertEquals } from "../util/assert.ts";
import { LUA_REGISTRYINDEX, LuaSandbox } from "./engine.ts";
import { LUA_REGISTRYINDEX as WASMOON_REGISTRYINDEX } from "wasmoon";
import { LuaError } from "./errors.ts";

function sandbox(options: { timeLimitMs?: number; memoryLimitMb?: number } = {}) {
  const logs: string[] = [];
  return LuaSandbox.create({
    timeLimitMs: options.timeLimitMs ?? 50,
    memoryLimitMb: options.memoryLimitMb ?? 16,
    host: {
      log: (level, text) => logs.push(`${level} ${text}`),
      random: () => 0.25,
      wallMs: () => 1_700_000_000_500,
      section: () => undefined,
    },
  }).then((sb) => ({ sb, logs }));
}

function failure(fn: () => unknown): LuaError {
  try {
    fn();
  } catch (e) {
    assert(e instanceof LuaError, `expected LuaError, got ${e}`);
    return e;
  }
  throw new Error("expected a LuaError");
}

Deno.test("engine: starts under the daemon permission set (embedded wasm)", async () => {
  const script = new URL("./testdata/daemon_start.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=daemon", "--config", config, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(stdout.trim(), "lua says 42");
});

Deno.test("engine: calls pass scalars both ways", async () => {
  const { sb, logs } = await sandbox();
  const f = sb.load(
    "local a, b, s = ...; print('got', s); return a + b, s .. '!', true, nil",
    "=t",
  );
  const r = sb.call(f, [1, 2.5, "x"], 4);
  assertEquals(r, [3.5, "x!", true, null]);
  assertEquals(logs, ["INFO got\tx"]);
  sb.close();
});

Deno.test("engine: syntax error names file and line", async () => {
  const { sb } = await sandbox();
  const e = failure(() => sb.load("local x = 1\nx = = 2\n", "@/etc/sqm-autorate/bad.lua"));
  assertEquals(e.kind, "syntax");
  assert(e.message.startsWith("/etc/sqm-autorate/bad.lua:2:"), e.message);
  sb.close();
});

Deno.test("engine: runtime error carries a traceback with file:line", async () => {
  const { sb } = await sandbox();
  const f = sb.load("local function inner()\n  error('boom')\nend\ninner()\n", "@x.lua");
  const e = failure(() => sb.call(f, [], 0));
  assertEquals(e.kind, "error");
  assert(e.message.startsWith("x.lua:2: boom"), e.message);
  assert(e.message.includes("stack traceback:"), e.message);
  assert(e.message.includes("x.lua:4: in main chunk"), e.message);
  sb.close();
});

Deno.test("engine: an infinite loop is stopped by the time limit; the engine stays usable", async () => {
  const { sb } = await sandbox({ timeLimitMs: 30 });
  const t0 = performance.now();
  const e = failure(() => sb.call(sb.load("while true do end", "@loop.lua"), [], 0));
  const took = performance.now() - t0;
  assertEquals(e.kind, "timeout");
  assert(e.message.includes("loop.lua:1"), e.message);
  assert(took >= 30 && took < 1000, `took ${took} ms`);
  assertEquals(sb.call(sb.load("return 1 + 1", "=ok"), [], 1), [2]);
  sb.close();
});

Deno.test("engine: pcall, xpcall and coroutines cannot swallow the time limit", async () => {
  const { sb } = await sandbox({ timeLimitMs: 20 });
  for (
    const src of [
      "while true do pcall(function() while true do end end) end",
      "while true do xpcall(function() while true do end end, function(e) return e end) end",
      "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
      "local w = coroutine.wrap(function() while true do end end)\nwhile true do pcall(w) end",
    ]
  ) {
    const e = failure(() => sb.call(sb.load(src, "@catch.lua"), [], 0));
    assertEquals(e.kind, "timeout", src);
  }
  sb.close();
});

Deno.test("engine: a memory bomb is stopped by the cap; the engine stays usable", async () => {
  const { sb } = await sandbox({ memoryLimitMb: 4, timeLimitMs: 2000 });
  const bomb = sb.load(
    "local t = {}\nfor i = 1, 1e9 do t[i] = string.rep('x', 65536) .. i end",
    "@bomb.lua",
  );
  const e = failure(() => sb.call(bomb, [], 0));
  assertEquals(e.kind, "memory");
  assert(e.message.includes("not enough memory"), e.message);
  sb.collectGarbage();
  assert(sb.memoryUsed() < 4 * 1024 * 1024, `${sb.memoryUsed()} bytes after GC`);
  assertEquals(sb.call(sb.load("return 'alive'", "=ok"), [], 1), ["alive"]);
  sb.close();
});

Deno.test("engine: no host filesystem, processes, environment or module loading", async () => {
  const { sb, logs } = await sandbox();
  const cases: [string, string][] = [
    ["return io.open('/etc/passwd')", "io.open is not available"],
    ["return io.lines('/etc/passwd')", "io.lines is not available"],
    ["return dofile('/etc/passwd')", "dofile is not available"],
    ["return loadfile('/etc/passwd')", "loadfile is not available"],
    ["return os.execute('ls')", "os.execute is not available"],
    ["return os.exit(1)", "os.exit is not available"],
    ["return os.remove('/tmp/x')", "os.remove is not available"],
    ["return require('socket')", "require('socket') is not available"],
    ["return io.popen('ls')", "io.popen is not available"],
  ];
  for (const [src, expected] of cases) {
    const e = failure(() => sb.call(sb.load(src, "=case"), [], 1));
    assert(e.message.includes(expected), `${src}: ${e.message}`);
  }
  const probe = sb.load(
    "return debug.sethook, os.getenv('HOME'), string.dump, os.time(), require('math') == math, " +
      "load(string.char(27) .. 'Lua')",
    "=probe",
  );
  assertEquals(sb.call(probe, [], 6), [null, null, null, 1_700_000_000, true, null]);
  sb.call(sb.load("io.write('to the log\\n'); io.stderr:write('also')", "=w"), [], 0);
  assertEquals(logs, ["INFO to the log", "INFO also"]);
  sb.close();
});

Deno.test("engine: Lua's registry index is wasmoon's", () => {
  assertEquals(LUA_REGISTRYINDEX, WASMOON_REGISTRYINDEX);
});

Deno.test("engine: starting wasmoon in web mode leaves process and window as they were", async () => {
  const g = globalThis as Record<string, unknown>;
  const process = g.process;
  const { sb } = await sandbox();
  assertEquals(sb.call(sb.load("return 6 * 7", "=t"), [], 1), [42]);
  sb.close();
  assert(g.process === process, "process changed");
  assertEquals("window" in g, false);
});
