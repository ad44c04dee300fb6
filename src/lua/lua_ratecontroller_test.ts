import { assert, assertEquals, assertRejects } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import type { TableSettings } from "../config/settings_table.ts";
import { seededRandom, VirtualClock } from "../util/clock.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { EwmaController } from "../ratecontroller/ewma.ts";
import { createRatecontroller } from "../ratecontroller/mod.ts";
import type {
  RatecontrollerContext,
  TickInput,
  TickReadings,
} from "../control/ratecontroller_port.ts";
import { createLuaRatecontroller, LuaRatecontrollerError } from "./lua_ratecontroller.ts";
import { createPluginManager } from "./plugin_manager.ts";
import { recordingLogger, tickReadings } from "./testing.ts";

const fixture = (name: string) => new URL(`./testdata/${name}`, import.meta.url).pathname;

function context(overrides: Partial<TableSettings>, seed = 1) {
  const { logger, lines } = recordingLogger();
  const ctx: RatecontrollerContext = {
    settings: settingsWithDefaults({
      ul_if: "wan",
      dl_if: "ifb4wan",
      base_ul_rate: 20000,
      base_dl_rate: 100000,
      // Generous unless a test sets it: a loaded machine must not turn a call into a timeout.
      lua_time_limit_ms: 1000,
      ...overrides,
    }),
    clock: new VirtualClock(0),
    random: seededRandom(seed),
    logger,
    owd: createOwdState(),
    reselect: { requestReselect: () => {} },
  };
  return { ctx, lines };
}

const tick = (now_s: number, r: Partial<TickReadings> = {}): TickInput => ({
  readings: tickReadings({ now_s, ...r }),
  ul_max_delta_owd: 15,
  dl_max_delta_owd: 15,
});

Deno.test("lua controller: start-up failures are fatal and name file and line", async () => {
  const cases: [string, string][] = [
    [fixture("ctrl_syntax.lua"), `${fixture("ctrl_syntax.lua")}:3:`],
    [
      fixture("ctrl_no_calculate.lua"),
      `${fixture("ctrl_no_calculate.lua")}: the module has no calculate(data) function`,
    ],
    [
      fixture("ctrl_configure_error.lua"),
      `${fixture("ctrl_configure_error.lua")}:3: cannot configure for base 100000`,
    ],
    ["/nonexistent/ctrl.lua", "cannot read Lua script /nonexistent/ctrl.lua"],
    ["builtin:nope", 'no shipped Lua script "builtin:nope"'],
  ];
  for (const [script, expected] of cases) {
    const { ctx } = context({ rate_controller: script });
    const e = await assertRejects(() => createLuaRatecontroller(ctx), LuaRatecontrollerError);
    assert(e.message.includes(expected), `${script}: ${e.message}`);
  }
});

Deno.test("lua controller: a failing tick gives minimum rates and the next tick works", async () => {
  const { ctx, lines } = await context({
    rate_controller: fixture("ctrl_behaviour.lua"),
    lua_time_limit_ms: 20,
  });
  const c = await createLuaRatecontroller(ctx);
  assertEquals(c.name, "behaviour");
  const min = { next_dl_rate: 20000, next_ul_rate: 4000 };
  assertEquals(await c.decide(tick(1)), min);
  const err = lines.find((l) => l.level === "error")!.text;
  assert(err.includes(`${fixture("ctrl_behaviour.lua")}:7: tick one fails`), err);
  assert(err.includes("stack traceback"), err);
  assertEquals(await c.decide(tick(2)), min);
  assert(lines.some((l) => l.text.includes("calculate() failed (timeout)")));
  assertEquals(await c.decide(tick(10)), { next_dl_rate: 60001, next_ul_rate: 12001 });
  c.close?.();
});

Deno.test("lua controller: invalid results hold the current rate with a warning", async () => {
  const { ctx, lines } = await context({ rate_controller: fixture("ctrl_behaviour.lua") });
  const c = await createLuaRatecontroller(ctx);
  const warnings = () => lines.filter((l) => l.level === "warn").map((l) => l.text);
  assertEquals(await c.decide(tick(3)), { next_dl_rate: 60000, next_ul_rate: 12000 });
  assertEquals(
    warnings().pop(),
    [
      `${
        fixture("ctrl_behaviour.lua")
      }: calculate(): next_dl_rate is not a number (nan, as 0/0 gives); ignored`,
      `${fixture("ctrl_behaviour.lua")}: calculate(): next_ul_rate is negative (-1); ignored`,
    ].join("; "),
  );
  assertEquals(await c.decide(tick(4)), { next_dl_rate: 60000, next_ul_rate: 12000 });
  assert(warnings().pop()!.includes("next_dl_rate is a string, expected a number"));
  // A non-table result other than nil is a failure of the tick: minimum rates.
  assertEquals(await c.decide(tick(5)), { next_dl_rate: 20000, next_ul_rate: 4000 });
  const error = lines.filter((l) => l.level === "error").pop()!.text;
  assert(error.includes("calculate() returned a number, expected a table"), error);
  c.close?.();
});

Deno.test("lua controller: data carries everything; data.random is one draw per tick; reselect", async () => {
  const { ctx } = await context({ rate_controller: fixture("ctrl_behaviour.lua"), histsize: 7 });
  const c = await createLuaRatecontroller(ctx);
  const expected = seededRandom(1)() * 1000;
  assertEquals(await c.decide(tick(6)), {
    next_dl_rate: expected,
    next_ul_rate: expected,
    reselect: true,
  });
  assertEquals(await c.decide(tick(7)), { next_dl_rate: 5 + 7, next_ul_rate: 0.5 });
  c.close?.();
});

Deno.test("lua controller: createRatecontroller builds builtin:ewma through luaFactory", async () => {
  const { ctx } = await context({ rate_controller: "builtin:ewma" });
  const c = await createRatecontroller(ctx, { luaFactory: createLuaRatecontroller });
  assertEquals(c.name, "ewma (lua)");
  assertEquals(c.speedHistory!().up.length, 100);
  c.close?.();
});

/** Readings as the loop derives them from counters and sorted deltas. */
function variedTick(rnd: () => number, now: number, cur: { dl: number; ul: number }): TickInput {
  const dt = 0.45 + rnd() * 0.1;
  // Loads from idle to saturated (and a little beyond), delays from quiet to bloated.
  const dlLoad = rnd() < 0.5 ? rnd() * 0.8 : 0.7 + rnd() * 0.4;
  const ulLoad = rnd() < 0.5 ? rnd() * 0.8 : 0.7 + rnd() * 0.4;
  const dl_bytes = Math.round(dlLoad * cur.dl * dt / 0.008);
  const ul_bytes = Math.round(ulLoad * cur.ul * dt / 0.008);
  const down_utilisation = 0.008 * dl_bytes / dt;
  const up_utilisation = 0.008 * ul_bytes / dt;
  const spread = rnd() < 0.3 ? 40 : 12;
  const n = 3 + Math.floor(rnd() * 6);
  const dl_deltas = Array.from({ length: n }, () => rnd() * spread).sort((a, b) => a - b);
  const ul_deltas = Array.from({ length: n }, () => rnd() * spread).sort((a, b) => a - b);
  // Exactly-at-threshold and zero statistics happen too.
  const pick = (d: number[]) => (rnd() < 0.02 ? 15 : rnd() < 0.02 ? 0 : d[2]);
  return {
    readings: {
      now_s: now,
      dt,
      rx_load: down_utilisation / cur.dl,
      tx_load: up_utilisation / cur.ul,
      down_del_stat: pick(dl_deltas),
      up_del_stat: pick(ul_deltas),
      down_utilisation,
      up_utilisation,
      cur_dl_rate: cur.dl,
      cur_ul_rate: cur.ul,
      dl_bytes,
      ul_bytes,
      dl_deltas,
      ul_deltas,
    },
    dl_max_delta_owd: rnd() < 0.1 ? 8 + rnd() * 20 : 15,
    ul_max_delta_owd: rnd() < 0.1 ? 8 + rnd() * 20 : 15,
  };
}

Deno.test("lua controller: builtin:ewma matches the TypeScript EWMA for 10 000 varied ticks", async () => {
  for (const [seed, histsize] of [[11, 100], [12, 1], [13, 7]]) {
    const { ctx } = await context({ rate_controller: "builtin:ewma", histsize }, seed);
    const lua = await createLuaRatecontroller(ctx);
    const ts = new EwmaController(ctx.settings, seededRandom(seed));
    assertEquals(lua.speedHistory!(), ts.speedHistory());
    const rnd = seededRandom(seed * 1000);
    const min = { dl: ctx.settings.min_dl_rate, ul: ctx.settings.min_ul_rate };
    let cur = { dl: 60000, ul: 12000 };
    const ticks = histsize === 100 ? 10_000 : 2_000;
    let changes = 0;
    for (let i = 0; i < ticks; i++) {
      const input = variedTick(rnd, i * 0.5, cur);
      const a = await lua.decide(input);
      const b = ts.decide(input);
      assertEquals(a, b, `seed ${seed} tick ${i}`);
      // The loop clamps and floors; feed that back so the rates wander like in the daemon.
      const next = {
        dl: Math.floor(Math.max(min.dl, b.next_dl_rate)),
        ul: Math.floor(Math.max(min.ul, b.next_ul_rate)),
      };
      if (next.dl !== cur.dl || next.ul !== cur.ul) changes++;
      cur = next;
    }
    assertEquals(lua.speedHistory!(), ts.speedHistory());
    assert(changes > ticks / 4, `only ${changes} rate changes: inputs not varied enough`);
    lua.close?.();
  }
});

Deno.test("lua controller + plugin: the Lua heaps do not grow over 20 000 ticks", async () => {
  const { ctx } = await context({
    rate_controller: "builtin:ewma",
    plugin_scripts: [fixture("read_all.lua"), "builtin:log_readings"],
  }, 5);
  const c = await createLuaRatecontroller(ctx);
  const pm = await createPluginManager({ settings: ctx.settings, logger: ctx.logger });
  assert(pm);
  const rnd = seededRandom(9);
  let cur = { dl: 60000, ul: 12000 };
  const run = async (from: number, n: number) => {
    for (let i = from; i < from + n; i++) {
      const input = variedTick(rnd, i * 0.5, cur);
      const d = await c.decide(input);
      const adj = await pm.adjust({ ...input, ...d });
      cur = {
        dl: Math.floor(Math.max(20000, adj.next_dl_rate ?? d.next_dl_rate)),
        ul: Math.floor(Math.max(4000, adj.next_ul_rate ?? d.next_ul_rate)),
      };
    }
  };
  await run(0, 2000);
  const before = c.heapBytes() + pm.heapBytes();
  await run(2000, 20_000);
  const after = c.heapBytes() + pm.heapBytes();
  assert(after - before <= 1024, `heap grew by ${after - before} bytes`);
  c.close();
  pm.close();
});

Deno.test("lua controller: a script to the Rust port's interface (init, calculate(ctx), dl_rate) runs", async () => {
  const { ctx } = context({
    rate_controller: fixture("ctrl_rust_port.lua"),
    dl_max_delta_owd: 12,
    histsize: 7,
  });
  const c = await createLuaRatecontroller(ctx);
  // current_dl_rate 60000 + download_delay_ms 12 + dl_deltas[3] 2.5; ul_utilisation 4800 +
  // speed_hist_size 7 + base_ul_rate 20000 + elapsed_secs 0.5; dl_utilisation and current_ul_rate.
  assertEquals(await c.decide(tick(1)), {
    next_dl_rate: 60014.5,
    next_ul_rate: 24807.5,
    reselect: true,
  });
  c.close?.();
});
