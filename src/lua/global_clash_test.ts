/**
 * Two plugins that set the same global share one value (all plugins run in one Lua state, as
 * upstream's require loads them): named in one warning when set at load, whatever the value; the
 * values stay in _G (docs/plugins.md, "Plugins").
 */
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { seededRandom, VirtualClock } from "../util/clock.ts";
import { createPluginManager } from "./plugin_manager.ts";
import { recordingLogger, tickReadings } from "./testing.ts";
import { globalClashWarnings } from "./global_clash.ts";

/** A manager running `scripts` (name → text) as `/etc/sqm-autorate/<name>`, in order. */
async function run(scripts: Record<string, string>, ticks: number) {
  const { logger, lines } = recordingLogger();
  const m = await createPluginManager({
    settings: settingsWithDefaults({
      ul_if: "wan",
      dl_if: "ifb4wan",
      base_ul_rate: 20000,
      base_dl_rate: 100000,
      lua_time_limit_ms: 1000,
      plugin_scripts: Object.keys(scripts).map((n) => `/etc/sqm-autorate/${n}`),
    }),
    logger,
    clock: new VirtualClock(0),
    random: seededRandom(1),
    readTextFile: (path) => {
      const text = scripts[path.slice("/etc/sqm-autorate/".length)];
      return text === undefined
        ? Promise.reject(new Deno.errors.NotFound(path))
        : Promise.resolve(text);
    },
  });
  assert(m);
  const results: number[] = [];
  for (let i = 0; i < ticks; i++) {
    const adj = await m.adjust({
      readings: tickReadings({ now_s: i }),
      next_ul_rate: 10000,
      next_dl_rate: 50000,
      ul_max_delta_owd: 15,
      dl_max_delta_owd: 15,
    });
    results.push(adj.next_dl_rate ?? NaN);
  }
  m.close();
  return { results, warnings: lines.filter((l) => l.level === "warn").map((l) => l.text) };
}

const counter = (name: string, init: string) =>
  `${init}\nlocal M = { name = "${name}" }\n` +
  "function M.process(r) count = (count or 0) + 1; return {} end\nreturn M\n";

Deno.test("global clash: a number both plugins set at load (count = 0 twice) is named once", async () => {
  const { warnings } = await run({
    "a.lua": counter("a", "count = 0"),
    "b.lua": counter("b", "count = 0"),
  }, 5);
  // Until the thirty-first session the same value (0) passed as no clash: both incremented it.
  assertEquals(warnings.length, 1, warnings.join("\n"));
  assert(
    warnings[0].startsWith(
      "/etc/sqm-autorate/b.lua: sets the global count, which /etc/sqm-autorate/a.lua sets too",
    ),
    warnings[0],
  );
});

Deno.test("global clash: plugin globals stay in _G: rawget sees them, and a plugin's own metatable on _G hides none", async () => {
  const { warnings, results } = await run({
    // a global first set at load, then counted in process with the rawget idiom of strict code
    "a.lua": 'local M = { name = "a" }\nstate = { n = 0 }\nfunction M.process(r)\n' +
      "  if rawget(_G, 'tally') == nil then tally = 0 end\n  tally = tally + 1; state.n = state.n + 1\n" +
      "  return { next_dl_rate = 50000 + 10 * tally + state.n } end\nreturn M\n",
    // a strict mode: reading an undeclared global raises (as strict.lua does)
    "b.lua": 'local M = { name = "b" }\n' +
      'setmetatable(_G, { __index = function(_, k) error("undeclared " .. tostring(k), 2) end })\n' +
      "function M.process(r) return {} end\nreturn M\n",
  }, 3);
  assertEquals(warnings, []);
  // The thirty-first session's first clash check kept plugin globals out of _G: a's `state` was
  // then undeclared under b's metatable and `tally` restarted at 0 every tick.
  assertEquals(results, [50011, 50022, 50033]);
});

Deno.test("global clash: globals one plugin sets, reads of another's, locals and library globals are no clash; the values work", async () => {
  const { warnings, results } = await run({
    // sets its own global every tick, and replaces a library global (not another plugin's)
    "a.lua": 'local M = { name = "a" }\nshared_rate = 0\nfunction M.process(r)\n' +
      "  shared_rate = r.next_dl_rate + 1; tostring = tostring; return {} end\nreturn M\n",
    // reads a's global only, and counts the plugin globals through pairs(_G)
    "b.lua": 'local M = { name = "b" }\nlocal count = 0\nfunction M.process(r)\n' +
      '  count = count + 1\n  local seen = 0\n  for k in pairs(_G) do if k == "shared_rate" then seen = seen + 1 end end\n' +
      "  return { next_dl_rate = shared_rate + seen } end\nreturn M\n",
  }, 3);
  assertEquals(warnings, []);
  // a's value reached b through the shared state, and pairs(_G) lists it once.
  assertEquals(results, [50002, 50002, 50002]);
});

Deno.test("global clash: the replaced module table of two M = {} plugins is still named (the thirtieth session's case)", async () => {
  const globalM = (name: string) =>
    `M = { name = "${name}" }\nfunction M.process(r) return {} end\nreturn M\n`;
  const { warnings } = await run({ "ga.lua": globalM("ga"), "gb.lua": globalM("gb") }, 2);
  assertEquals(warnings.length, 1, warnings.join("\n"));
  assert(
    warnings[0].includes("gb.lua: sets the global M, which /etc/sqm-autorate/ga.lua sets too"),
  );
});

Deno.test("global clash: several globals of one pair make one line", () => {
  assertEquals(globalClashWarnings("b.lua\tM\ta.lua\nb.lua\tcount\ta.lua\nc.lua\tx\ta.lua"), [
    "b.lua: sets the globals M, count, which a.lua sets too: all plugins share one Lua state, " +
    "so the two plugins share one value; declare them local (local M = …) " +
    '(docs/plugins.md, "Plugins")',
    "c.lua: sets the global x, which a.lua sets too: all plugins share one Lua state, so the " +
    "two plugins share one value; declare it local (local x = …) " +
    '(docs/plugins.md, "Plugins")',
  ]);
});
