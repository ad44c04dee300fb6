/**
 * Lua in a worker: a call stuck in a C function is stopped by wall-clock time (the worker is
 * terminated and started afresh), and the controller in a worker decides as in process.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import type { TableSettings } from "../config/settings_table.ts";
import { seededRandom, systemClock } from "../util/clock.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { RatecontrollerContext } from "../control/ratecontroller_port.ts";
import {
  createIsolatedPlugins,
  createIsolatedRatecontroller,
  IsolatedPlugins,
  IsolatedRatecontroller,
  LuaWorker,
  startDaemonLua,
  STOP_FACTOR,
  STOP_GRACE_MS,
} from "./isolated.ts";
import { createLuaRatecontroller } from "./lua_ratecontroller.ts";
import { recordingLogger, tickReadings } from "./testing.ts";

/** When a stuck call is stopped. */
const stopMs = (limit: number) => STOP_FACTOR * limit + STOP_GRACE_MS;

const fixture = (name: string) => new URL(`./testdata/${name}`, import.meta.url).pathname;

function settings(overrides: Partial<TableSettings>) {
  return settingsWithDefaults({
    ul_if: "wan",
    dl_if: "ifb4wan",
    base_ul_rate: 20000,
    base_dl_rate: 100000,
    ...overrides,
  });
}

const input = (now_s: number) => ({
  readings: tickReadings({ now_s }),
  next_ul_rate: 12000,
  next_dl_rate: 60000,
  ul_max_delta_owd: 15,
  dl_max_delta_owd: 15,
});

Deno.test("isolated plugins: a pattern match spinning in C is stopped at 1.5x the limit + 250 ms; stuck twice, the plugin is left out", async () => {
  const limit = 500;
  const { logger, lines } = recordingLogger();
  const p = await createIsolatedPlugins({
    settings: settings({
      plugin_scripts: [fixture("spin.lua"), fixture("add_one.lua")],
      lua_time_limit_ms: limit,
    }),
    logger,
    clock: systemClock,
    // ("a"):rep(400):find(".-.-.-b") runs for seconds
    pluginSections: (name) => name === "spin" ? { length: "400" } : undefined,
  });
  assert(p);
  try {
    assertEquals(p.active, ["spin", "add_one"]);
    assertEquals(await p.adjust(input(1)), {
      next_ul_rate: 12001,
      next_dl_rate: 60001,
      by: "add_one",
    });
    const t0 = performance.now();
    assertEquals(await p.adjust(input(5)), {});
    const took = performance.now() - t0;
    assert(
      took >= stopMs(limit) && took < stopMs(limit) + 500,
      `stopped after ${took.toFixed(0)} ms`,
    );
    assert(lines.some((l) => l.text === "spin: spin: matching 400"), JSON.stringify(lines));
    const stopped = lines.find((l) => l.text.includes("stuck in a C function"))?.text ?? "";
    assert(stopped.startsWith(`plugin ${fixture("spin.lua")}: process() stopped after`), stopped);
    // A fresh worker: both plugins again, state started over.
    assertEquals(await p.adjust(input(2)), {
      next_ul_rate: 12001,
      next_dl_rate: 60001,
      by: "add_one",
    });
    assertEquals(p.active, ["spin", "add_one"]);
    await p.adjust(input(6));
    assert(lines.some((l) => l.text === `plugin ${fixture("spin.lua")} disabled: stuck 2 times`));
    assertEquals(await p.adjust(input(7)), {
      next_ul_rate: 12001,
      next_dl_rate: 60001,
      by: "add_one",
    });
    assertEquals(p.active, ["add_one"]);
  } finally {
    p.close();
  }
});

Deno.test("isolated controller: builtin:ewma in a worker decides exactly as in process", async () => {
  const ctx = (seed: number): RatecontrollerContext => ({
    settings: settings({ rate_controller: "builtin:ewma", lua_time_limit_ms: 2000 }),
    clock: systemClock,
    random: seededRandom(seed),
    logger: recordingLogger().logger,
    owd: createOwdState(),
    reselect: { requestReselect: () => {} },
  });
  const iso = await createIsolatedRatecontroller(ctx(5));
  const local = await createLuaRatecontroller(ctx(5));
  try {
    assertEquals(iso.name, "ewma (lua)");
    assertEquals(iso.speedHistory(), local.speedHistory());
    const rnd = seededRandom(9);
    for (let i = 0; i < 300; i++) {
      const t = {
        readings: tickReadings({
          now_s: i / 2,
          rx_load: rnd() * 1.1,
          tx_load: rnd() * 1.1,
          down_del_stat: rnd() * 30,
          up_del_stat: rnd() * 30,
        }),
        ul_max_delta_owd: 15,
        dl_max_delta_owd: 15,
      };
      assertEquals(await iso.decide(t), local.decide(t), `tick ${i}`);
    }
  } finally {
    iso.close();
    local.close();
  }
});

Deno.test("one worker for the Lua controller and the plugins: a stuck call restarts both, the stuck plugin counts as failed and is left out the second time", async () => {
  const limit = 500;
  const st = settings({
    rate_controller: fixture("ctrl_spin.lua"),
    plugin_scripts: [fixture("spin.lua"), fixture("add_one.lua")],
    lua_time_limit_ms: limit,
  });
  const { logger, lines } = recordingLogger();
  const worker = new LuaWorker({ settings: st, clock: systemClock });
  const p = await createIsolatedPlugins({
    settings: st,
    logger,
    clock: systemClock,
    worker,
    pluginSections: (name) => name === "spin" ? { length: "400" } : undefined,
  });
  const c = await createIsolatedRatecontroller({
    settings: st,
    clock: systemClock,
    random: seededRandom(1),
    logger,
    owd: createOwdState(),
    reselect: { requestReselect: () => {} },
  }, { worker });
  try {
    assert(p instanceof IsolatedPlugins && c instanceof IsolatedRatecontroller);
    assertEquals([c.name, p.active, worker.generation], ["ctrl_spin", ["spin", "add_one"], 1]);
    const tick = (now_s: number) => ({
      readings: tickReadings({ now_s }),
      ul_max_delta_owd: 15,
      dl_max_delta_owd: 15,
    });
    assertEquals((await c.decide(tick(1))).next_dl_rate, 50001);
    assertEquals((await c.decide(tick(2))).next_dl_rate, 50002);
    // The controller spins: minimum rates, one fresh worker for both parts.
    const t0 = performance.now();
    assertEquals(await c.decide(tick(5)), {
      next_dl_rate: st.min_dl_rate,
      next_ul_rate: st.min_ul_rate,
    });
    const took = performance.now() - t0;
    assert(
      took >= stopMs(limit) && took < stopMs(limit) + 500,
      `stopped after ${took.toFixed(0)} ms`,
    );
    assertEquals((await c.decide(tick(3))).next_dl_rate, 50001, "the controller starts over");
    assertEquals(worker.generation, 2);
    assertEquals(await p.adjust(input(1)), {
      next_ul_rate: 12001,
      next_dl_rate: 60001,
      by: "add_one",
    });
    // A plugin spins: that tick changes nothing and counts as a failure; the controller goes on.
    assertEquals(await p.adjust(input(5)), {});
    assertEquals(p.health.errors, 1);
    assertEquals((await c.decide(tick(3))).next_dl_rate, 50001);
    assertEquals(worker.generation, 3);
    await p.adjust(input(6));
    assert(lines.some((l) => l.text === `plugin ${fixture("spin.lua")} disabled: stuck 2 times`));
    assertEquals(await p.adjust(input(7)), {
      next_ul_rate: 12001,
      next_dl_rate: 60001,
      by: "add_one",
    });
    assertEquals(p.active, ["add_one"]);
    assertEquals(p.health, { errors: 2, disabled: [fixture("spin.lua")] });
    // Each stuck call restarted the one worker, the controller's state with it.
    assertEquals([(await c.decide(tick(4))).next_dl_rate, worker.generation], [50001, 4]);
  } finally {
    worker.close();
  }
});

Deno.test("startDaemonLua: lua_isolation none runs Lua on this thread, worker in the one worker", async () => {
  for (const mode of ["none", "worker"] as const) {
    const st = settings({
      rate_controller: "builtin:ewma",
      plugin_scripts: [fixture("add_one.lua")],
      lua_isolation: mode,
      lua_time_limit_ms: 2000,
    });
    const { logger } = recordingLogger();
    const lua = await startDaemonLua({ settings: st, logger, clock: systemClock });
    const c = await lua.ratecontroller({
      settings: st,
      clock: systemClock,
      random: seededRandom(1),
      logger,
      owd: createOwdState(),
      reselect: { requestReselect: () => {} },
    });
    try {
      assertEquals(lua.plugins instanceof IsolatedPlugins, mode === "worker", mode);
      assertEquals(c instanceof IsolatedRatecontroller, mode === "worker", mode);
      assertEquals(await lua.plugins?.adjust(input(1)), {
        next_ul_rate: 12001,
        next_dl_rate: 60001,
        by: "add_one",
      });
      assertEquals(c.name, "ewma (lua)");
      // The daemon's INFO line names it (src/daemon/mod_test.ts, "names the Lua ratecontroller").
      assertEquals(c.script, "builtin:ewma", mode);
    } finally {
      lua.plugins?.close?.();
      c.close?.();
    }
  }
});

Deno.test("one worker: failure counts and a plugin disabled for failing survive a restart; it stays out of the fresh worker", async () => {
  const st = settings({
    plugin_scripts: [fixture("flaky.lua"), fixture("spin.lua"), fixture("add_one.lua")],
    lua_time_limit_ms: 500,
  });
  const { logger, lines } = recordingLogger();
  const p = await createIsolatedPlugins({
    settings: st,
    logger,
    clock: systemClock,
    pluginSections: (name) => name === "spin" ? { length: "400" } : undefined,
  });
  assert(p instanceof IsolatedPlugins);
  try {
    // flaky fails on odd ticks: ten failures disable it.
    for (let i = 0; i < 10; i++) await p.adjust(input(1 + 2 * (i % 2)));
    assertEquals(p.active, ["spin", "add_one"]);
    assertEquals(p.health, { errors: 10, disabled: ["flaky"] });
    // spin gets stuck: a fresh worker, counts kept, flaky not loaded again.
    assertEquals(await p.adjust(input(5)), {});
    assertEquals(p.health, { errors: 11, disabled: ["flaky"] });
    assertEquals(await p.adjust(input(2)), {
      next_ul_rate: 12001,
      next_dl_rate: 60001,
      by: "add_one",
    });
    assertEquals(p.active, ["spin", "add_one"]);
    assertEquals(p.health, { errors: 11, disabled: ["flaky"] });
    const loads = (name: string) =>
      lines.filter((l) => l.text === `Loaded ratecontrol plugin: ${name}`).length;
    assertEquals([loads("flaky"), loads("spin")], [1, 2]);
  } finally {
    p.close();
  }
});
