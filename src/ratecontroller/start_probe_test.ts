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
