import { assert, assertEquals } from "../util/assert.ts";
import { StartProbe } from "./start_probe.ts";

const FRESH = { name: "dl" as const, lastQueueS: 100, lastCutS: -Infinity };

Deno.test("start probe: until its first queue the download probes at least at 15 %/s", () => {
  const s = new StartProbe({}, 100);
  assert(s.unmeasured(FRESH));
  assertEquals(s.speed(FRESH, 0.01), 0.15);
  assertEquals(s.speed(FRESH, 0.2), 0.2, "a faster probe stays");
});

Deno.test("start probe: after a queue or a cut, or for the upload, the speed is left alone", () => {
  const s = new StartProbe({}, 100);
  assertEquals(s.speed({ ...FRESH, lastQueueS: 101 }, 0.01), 0.01, "after a queue");
  assertEquals(s.speed({ ...FRESH, lastCutS: 99 }, 0.01), 0.01, "after a cut");
  assertEquals(s.speed({ ...FRESH, name: "ul" }, 0.01), 0.01, "the upload");
  assertEquals(new StartProbe({ perS: { dl: 0, ul: 0 } }, 100).speed(FRESH, 0.01), 0.01, "off");
});

/** A download that went light at 100 s, never jumped, never cut. */
const LIGHT = { ...FRESH, lastLightS: 100.2, jumpS: -Infinity };
const SLOW_START = { ramping: true, load: 0.65, lightLoad: 0.5, highLoad: 0.8, queue: false };

Deno.test("start jump: an unmeasured download in a slow start under its rate jumps, once (v60)", () => {
  const s = new StartProbe({}, 100);
  assert(s.jumps(LIGHT, SLOW_START));
  assert(!s.jumps({ ...LIGHT, jumpS: 100.3 }, SLOW_START), "once per load start");
  assert(s.jumps({ ...LIGHT, jumpS: 100.1 }, SLOW_START), "a jump of an earlier load");
  assert(!s.jumps(LIGHT, { ...SLOW_START, ramping: false }), "not growing");
  assert(!s.jumps(LIGHT, { ...SLOW_START, queue: true }), "a queue in the RTT");
  assert(!s.jumps(LIGHT, { ...SLOW_START, load: 0.9 }), "already at its rate");
  assert(!s.jumps(LIGHT, { ...SLOW_START, load: 0.3 }), "light");
  assert(!s.jumps({ ...LIGHT, lastQueueS: 101 }, SLOW_START), "measured: after a queue");
  assert(!s.jumps({ ...LIGHT, name: "ul" }, SLOW_START), "the upload");
  assert(!new StartProbe({ jump: false }, 100).jumps(LIGHT, SLOW_START), "off");
});
