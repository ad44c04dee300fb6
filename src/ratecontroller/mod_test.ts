import { assert, assertEquals, assertRejects } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { stageLogger } from "../log/mod.ts";
import { systemClock } from "../util/clock.ts";
import {
  CapacityController,
  createRatecontroller,
  EwmaController,
  RatecontrollerConfigError,
} from "./mod.ts";
import type { Ratecontroller, RatecontrollerContext } from "../control/ratecontroller_port.ts";

function context(rate_controller: string): RatecontrollerContext {
  return {
    settings: settingsWithDefaults({ base_dl_rate: 1000, base_ul_rate: 1000, rate_controller }),
    clock: systemClock,
    random: () => 0.5,
    logger: stageLogger("test"),
    owd: createOwdState(),
    reselect: { requestReselect() {} },
  };
}

Deno.test("createRatecontroller: ewma builds the EWMA controller", async () => {
  const c = await createRatecontroller(context("ewma"));
  assert(c instanceof EwmaController);
  assertEquals(c.name, "ewma");
});

Deno.test("createRatecontroller: capacity builds the capacity controller at its own pace", async () => {
  const c = await createRatecontroller(context("capacity"));
  assert(c instanceof CapacityController);
  assertEquals(c.name, "capacity");
  assertEquals(c.intervalS, 0.1); // 0.5 s per reflector / 5 reflectors
});

Deno.test("createRatecontroller: Lua names need the factory; with it the factory is used", async () => {
  const e = await assertRejects(
    () => createRatecontroller(context("/etc/x.lua")),
    RatecontrollerConfigError,
  );
  assert(e.message.includes("Lua ratecontrollers need"));
  const fake: Ratecontroller = {
    name: "lua",
    decide: () => ({ next_dl_rate: 1, next_ul_rate: 1 }),
  };
  const seen: string[] = [];
  const c = await createRatecontroller(context("builtin:ewma"), {
    luaFactory: (ctx) => {
      seen.push(ctx.settings.rate_controller);
      return Promise.resolve(fake);
    },
  });
  assertEquals(c, fake);
  assertEquals(seen, ["builtin:ewma"]);
});

Deno.test("createRatecontroller: unknown names are rejected with the setting named", async () => {
  const e = await assertRejects(
    () => createRatecontroller(context("pid")),
    RatecontrollerConfigError,
  );
  assert(e.message.includes("rate_controller") && e.message.includes(`"pid"`), e.message);
});
