import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import type { TableSettings } from "../config/settings_table.ts";
import { seededRandom, VirtualClock } from "../util/clock.ts";
import type { AdjusterInput, Adjustment } from "../control/ratecontroller_port.ts";
import { checkScripts } from "./mod.ts";
import { createPluginManager, FAILURE_WINDOW_CALLS, MAX_FAILURES } from "./plugin_manager.ts";
import type { UciSectionOptions } from "./config.ts";
import { pluginRefs } from "./plugin_refs.ts";
import { recordingLogger, tickReadings } from "./testing.ts";

const fixture = (name: string) => new URL(`./testdata/${name}`, import.meta.url).pathname;

function settings(overrides: Partial<TableSettings>) {
  return settingsWithDefaults({
    ul_if: "wan",
    dl_if: "ifb4wan",
    base_ul_rate: 20000,
    base_dl_rate: 100000,
    // Generous unless a test sets it: a loaded machine must not turn a call into a timeout.
    lua_time_limit_ms: 1000,
    ...overrides,
  });
}

async function manager(
  overrides: Partial<TableSettings>,
  sections?: Record<string, UciSectionOptions>,
) {
  const { logger, lines } = recordingLogger();
  const m = await createPluginManager({
    settings: settings(overrides),
    logger,
    clock: new VirtualClock(0),
    random: seededRandom(1),
    pluginSections: sections ? (t) => sections[t] : undefined,
  });
  return { m, lines };
}

/** An adjustment's values, without who made them (`by`, the loop's log line). */
function values(adj: Adjustment): Adjustment {
  const { by: _by, ...rest } = adj;
  return rest;
}

function input(now_s = 100, extra: Partial<AdjusterInput> = {}): AdjusterInput {
  return {
    readings: tickReadings({ now_s }),
    next_ul_rate: 12345.6,
    next_dl_rate: 65203.02,
    ul_max_delta_owd: 15,
    dl_max_delta_owd: 15,
    ...extra,
  };
}

Deno.test("plugins: none configured gives no manager", async () => {
  const { m } = await manager({});
  assertEquals(m, undefined);
  assertEquals(pluginRefs(settings({ plugin_ratecontrol: "x", plugin_scripts: ["a", " "] })), [
    "x",
    "a",
  ]);
});

Deno.test("plugins: run in order, each sees the previous one's proposal; thresholds too", async () => {
  const { m } = await manager({
    plugin_scripts: [fixture("add_one.lua"), fixture("double.lua"), fixture("add_one.lua")],
  });
  assert(m);
  assertEquals(m.active, ["add_one", "double", "add_one"]);
  const adj = await m.adjust(input());
  assertEquals(adj.next_ul_rate, 12345.6 + 2);
  assertEquals(adj.next_dl_rate, (65203.02 + 1) * 2 + 1);
  assertEquals(adj.ul_max_delta_owd, 7.5);
  assertEquals(adj.dl_max_delta_owd, undefined);
  // Who changed what, for the loop's "settings changed by plugin" line (docs/plugins.md).
  assertEquals(adj.by, "add_one, double, add_one");
  m.close();
});

Deno.test("plugins: readings carry upstream keys only; additions and 1-based sorted deltas in extra", async () => {
  const { m, lines } = await manager({ plugin_scripts: [fixture("readings_echo.lua")] });
  assert(m);
  const adj = await m.adjust(input(42.9));
  assertEquals(lines.filter((l) => l.level === "warn"), []);
  assertEquals(adj.ul_max_delta_owd, 42.9 + 1.5);
  assertEquals(adj.dl_max_delta_owd, 60);
  m.close();
});

Deno.test("plugins: upstream-style plugin with initialise(requires, settings) and settings.plugin()", async () => {
  const sections = {
    pretty_speeds: { multiple: "500", ".name": "cfg0a1b2c", ".type": "pretty_speeds" },
  };
  const { m, lines } = await manager({
    plugin_ratecontrol: fixture("pretty_speeds.lua"),
    log_level: "INFO",
  }, sections);
  assert(m);
  assertEquals(
    lines.find((l) => l.text.includes("rounding"))?.text,
    `${
      fixture("pretty_speeds.lua")
    }: pretty_speeds: rounding to 500 (pretty_speeds, base 100000, level INFO)`,
  );
  // No `name` field: the manager falls back to the configured path.
  assert(
    lines.some((l) => l.text === `Loaded ratecontrol plugin: ${fixture("pretty_speeds.lua")}`),
  );
  const adj = values(await m.adjust(input()));
  assertEquals(adj, { next_ul_rate: 12500, next_dl_rate: 65500 });
  const change = lines.find((l) => l.text.startsWith("settings changed by plugin"));
  assert(change?.text.includes("next_ul_rate: 12346 -> 12500"), change?.text);
  // A plugin may change the rates every tick: DEBUG, never an INFO line per tick.
  assertEquals(change?.level, "debug");
  m.close();
});

Deno.test("plugins: upstream plugins that read requires.utilities (its develop/lua-threads name) load", async () => {
  // Upstream's own log_readings.lua and delay-histogram.lua start with
  // `local utilities = requires.utilities`; without that key they failed to load with
  // "attempt to index a nil value (local 'utilities')".
  const { m, lines } = await manager({
    plugin_ratecontrol: fixture("utilities_style.lua"),
    log_level: "INFO",
  }, { utilities_style: { step: "500", ".name": "cfg0c", ".type": "utilities_style" } });
  assertEquals(lines.filter((l) => l.text.includes("not loaded")), []);
  assert(m);
  const src = fixture("utilities_style.lua");
  assert(lines.some((l) => l.text === `${src}: utilities_style - settings: step=500`));
  assertEquals(values(await m.adjust(input())), {});
  assert(lines.some((l) => l.text.startsWith(`${src}: utilities_style: cur_dl_rate `)));
  m.close();
});

Deno.test("plugins: settings.plugin() without UCI gives an empty table (upstream default)", async () => {
  const { m } = await manager({ plugin_scripts: [fixture("pretty_speeds.lua")] });
  assert(m);
  assertEquals(values(await m.adjust(input())), { next_ul_rate: 13000, next_dl_rate: 66000 });
  m.close();
});

Deno.test("plugins: load failures are logged with file:line and skipped; others run", async () => {
  const { m, lines } = await manager({
    plugin_scripts: [
      fixture("syntax_error.lua"),
      fixture("no_process.lua"),
      fixture("init_error.lua"),
      "/nonexistent/plugin.lua",
      fixture("add_one.lua"),
    ],
  });
  assert(m);
  assertEquals(m.active, ["add_one"]);
  const errors = lines.filter((l) => l.level === "error").map((l) => l.text);
  assertEquals(errors.length, 4);
  assert(errors[0].includes(`${fixture("syntax_error.lua")}:3:`), errors[0]);
  assert(errors[1].includes("has no process(readings) function"), errors[1]);
  assert(errors[2].includes(`${fixture("init_error.lua")}:4:`), errors[2]);
  assert(errors[2].includes("stack traceback"), errors[2]);
  assert(errors[3].includes("cannot read Lua script /nonexistent/plugin.lua"), errors[3]);
  assertEquals((await m.adjust(input())).next_ul_rate, 12346.6);
  m.close();
});

Deno.test("plugins: checkScripts reports every script that does not load", async () => {
  const { logger } = recordingLogger();
  const good = settings({ plugin_scripts: [fixture("add_one.lua"), "builtin:log_readings"] });
  assertEquals(await checkScripts(good, { logger }), []);
  const bad = settings({
    plugin_ratecontrol: "no_such_module",
    plugin_scripts: [fixture("syntax_error.lua"), fixture("no_process.lua")],
    rate_controller: fixture("add_one.lua"),
  });
  const problems = await checkScripts(bad, { logger });
  assertEquals(problems.length, 4, problems.join("\n"));
  assert(problems[0].includes("Could not find configured plugin: no_such_module"), problems[0]);
  assert(problems[1].includes(`${fixture("syntax_error.lua")}:3:`), problems[1]);
  assert(problems[2].includes("no process(readings)"), problems[2]);
  assert(problems[3].includes("no calculate(data) function"), problems[3]);
});

Deno.test("plugins: process errors, timeouts and memory bombs are survived; one traceback per distinct error", async () => {
  const { m, lines } = await manager({
    plugin_scripts: [fixture("flaky.lua"), fixture("add_one.lua")],
    lua_time_limit_ms: 20,
    lua_memory_limit_mb: 4,
  });
  assert(m);
  // Tick 1 fails (odd): flaky's results are ignored, add_one still runs.
  assertEquals(values(await m.adjust(input(1))), { next_ul_rate: 12346.6, next_dl_rate: 65204.02 });
  const err = lines.find((l) => l.text.includes("process() failed"))!.text;
  assert(err.includes(`${fixture("flaky.lua")}:6: odd tick 1`), err);
  assert(err.includes("stack traceback"), err);
  assert(!err.includes("\n"), `one line: ${err}`);
  assertEquals((await m.adjust(input(2))).next_ul_rate, 5001);
  for (const t of [7, 9]) await m.adjust(input(t));
  assert(lines.some((l) => l.text.includes("process() failed (timeout)")));
  assert(lines.some((l) => l.text.includes("process() failed (memory)")));
  // The same error again is counted, not logged again.
  const errors = () => lines.filter((l) => l.level === "error").length;
  const before = errors();
  await m.adjust(input(1));
  assertEquals(errors(), before);
  assertEquals(m.active, ["flaky", "add_one"]);
  m.close();
});

Deno.test("plugins: failing every other tick disables after MAX_FAILURES within the window; rare failures never", async () => {
  const { m, lines } = await manager({ plugin_scripts: [fixture("flaky.lua")] });
  assert(m);
  let calls = 0;
  // Alternating: odd ticks fail, even ticks succeed (never MAX_FAILURES in a row).
  for (let t = 1; m.active.length > 0 && calls < 100; t++) {
    await m.adjust(input(t === 7 || t === 9 ? 11 : t));
    calls++;
  }
  assertEquals(m.active, []);
  assertEquals(calls, 2 * MAX_FAILURES - 1);
  assertEquals(m.health, { errors: MAX_FAILURES, disabled: ["flaky"] });
  const disabled = lines.filter((l) => l.text.includes("disabled"));
  assertEquals(disabled.map((l) => l.text), [
    `plugin flaky disabled after ${MAX_FAILURES} failures in its last ${calls} calls ` +
    `(last: ${fixture("flaky.lua")}:6: odd tick ${calls})`,
  ]);
  m.close();
  // One failure per FAILURE_WINDOW_CALLS / (MAX_FAILURES - 1) calls stays below the limit.
  const rare = await manager({ plugin_scripts: [fixture("flaky.lua")] });
  assert(rare.m);
  const every = Math.ceil(FAILURE_WINDOW_CALLS / (MAX_FAILURES - 1));
  for (let i = 1; i <= FAILURE_WINDOW_CALLS * 3; i++) {
    await rare.m.adjust(input(i % every === 0 ? 1 : 2));
  }
  assertEquals(rare.m.active, ["flaky"]);
  rare.m.close();
});

Deno.test("plugins: wrong types, NaN, infinities, negative rates are ignored with a warning", async () => {
  const { m, lines } = await manager({ plugin_scripts: [fixture("bad_results.lua")] });
  assert(m);
  const warnings = () => lines.filter((l) => l.level === "warn").map((l) => l.text);
  assertEquals(values(await m.adjust(input(1))), { next_dl_rate: 7000 });
  assertEquals(
    warnings().pop(),
    "plugin bad_results: process(): next_ul_rate is a string, expected a number; ignored",
  );
  assertEquals(values(await m.adjust(input(2))), {});
  assertEquals(
    warnings().pop(),
    [
      "plugin bad_results: process(): next_ul_rate is not a number (nan, as 0/0 gives); ignored",
      "plugin bad_results: process(): dl_max_delta_owd is infinite (inf, math.huge); ignored",
    ].join("\n"),
  );
  assertEquals(values(await m.adjust(input(3))), { dl_max_delta_owd: 22 });
  assertEquals(
    warnings().pop(),
    [
      "plugin bad_results: process(): next_dl_rate is negative (-5); ignored",
      "plugin bad_results: process(): ul_max_delta_owd must be > 0 ms (got 0); ignored",
    ].join("\n"),
  );
  assertEquals(values(await m.adjust(input(4))), {});
  assertEquals(
    warnings().pop(),
    "plugin bad_results: process() returned a string, expected a table",
  );
  assertEquals(values(await m.adjust(input(5))), {});
  assertEquals(
    warnings().pop(),
    "plugin bad_results: process(): next_dl_rate is a table, expected a number; ignored",
  );
  assertEquals(m.active, ["bad_results"]);
  m.close();
});

Deno.test("plugins: builtin:log_readings logs on its UCI conditions", async () => {
  const { m, lines } = await manager({ plugin_scripts: ["builtin:log_readings"] }, {
    log_readings: { down_del_stat_gt: "20", interval_seconds: "60", log_level: "warn" },
  });
  assert(m);
  const logged = () => lines.filter((l) => l.text.includes("readings ("));
  await m.adjust(input(100)); // first tick: interval fires
  await m.adjust(input(101));
  assertEquals(logged().length, 1);
  const down = { readings: tickReadings({ now_s: 102, down_del_stat: 25 }) };
  assertEquals(await m.adjust({ ...input(102), ...down }), {});
  assertEquals(logged().length, 2);
  const line = logged()[1];
  assertEquals(line.level, "warn");
  assert(
    line.text.includes("readings (down_del_stat_gt 20): cur_dl_rate=60000 cur_ul_rate=12000"),
    line.text,
  );
  assert(line.text.includes("dl_deltas={0.400,1.200,2.500,3.100,9.800}"), line.text);
  await m.adjust(input(160));
  assertEquals(logged().length, 3);
  m.close();
});

Deno.test("plugins: module names resolve like upstream (log_readings → builtin)", async () => {
  const { m, lines } = await manager({ plugin_ratecontrol: "log_readings" });
  assert(m);
  assertEquals(m.active, ["log_readings"]);
  assert(lines.some((l) => l.text === "Loaded ratecontrol plugin: log_readings"));
  m.close();
});

Deno.test("plugins: builtin:delay_tuner sets thresholds from low-load delays", async () => {
  const { m, lines } = await manager({ plugin_scripts: ["builtin:delay_tuner"] }, {
    delay_tuner: { recalculation_seconds: "300", sufficient_samples: "400" },
  });
  assert(m);
  const rnd = seededRandom(7);
  const results = [];
  for (let t = 0; t <= 300; t += 0.5) {
    // Idle line: up delays 0–3 ms, down 0–6 ms. Every 4th tick is busy with 50 ms delays,
    // which must not count (only low-load samples shape the threshold).
    const busy = (t * 2) % 4 === 1;
    const readings = tickReadings({
      now_s: t,
      tx_load: busy ? 0.9 : 0.05,
      rx_load: busy ? 0.9 : 0.1,
      up_del_stat: busy ? 50 : rnd() * 3,
      down_del_stat: busy ? 50 : rnd() * 6,
    });
    const adj = values(await m.adjust({ ...input(t), readings }));
    if (Object.keys(adj).length > 0) results.push({ t, ...adj });
  }
  // Upper edge of the bucket holding the 99.9th percentile plus the 2 ms margin.
  assertEquals(results, [{ t: 300, ul_max_delta_owd: 5, dl_max_delta_owd: 8 }]);
  assert(lines.some((l) => l.text.includes("ul_max_delta_owd: 15.0 -> 5.0")));
  m.close();
});

Deno.test("plugins: requires.util behaves like upstream's util module", async () => {
  const { logger, lines } = recordingLogger();
  const m = await createPluginManager({
    settings: settings({ plugin_scripts: [fixture("util_checks.lua")], log_level: "DEBUG" }),
    logger,
    clock: new VirtualClock(0.25, { wallOriginMs: 1_700_000_000_000 }),
    random: seededRandom(1),
  });
  assertEquals(lines.filter((l) => l.text.includes("not loaded")), []);
  assert(m);
  const src = fixture("util_checks.lua");
  assertEquals(lines.filter((l) => l.text.startsWith(src)), [
    { level: "debug", text: `${src}: visible debug` },
    { level: "error", text: `${src}: visible error` },
    {
      level: "warn",
      text:
        `${src}: util.nsleep is a no-op in sqm-autorate: scripts must not block the control loop`,
    },
  ]);
  m.close();
});

Deno.test("plugins: check-config's tick reports a failing process() once, as a problem, not also as a log line", async () => {
  const { m, lines } = await manager({ plugin_scripts: [fixture("flaky.lua")] });
  assert(m);
  const problems = m.checkTick(input(1));
  assertEquals(problems.length, 1, problems.join("\n"));
  assert(problems[0].includes(`${fixture("flaky.lua")}:6: odd tick 1`), problems[0]);
  assertEquals(lines.filter((l) => l.level === "error"), []);
  // The daemon's ticks still log it.
  await m.adjust(input(3));
  assertEquals(lines.filter((l) => l.text.includes("process() failed")).length, 1);
  m.close();
});
