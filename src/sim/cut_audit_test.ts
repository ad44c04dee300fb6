import { assertEquals } from "../util/assert.ts";
import { CutAudit } from "./cut_audit.ts";

Deno.test("cut audit: counts cuts under load, and those without a queue over the second before", () => {
  const audit = new CutAudit({ thresholdMs: 15, stepS: 0.01 });
  const step = (rate: number, o: { loaded?: boolean; delayMs?: number } = {}) =>
    audit.record(
      { down: rate, up: 1000 },
      { down: o.loaded ?? true, up: true },
      { down: o.delayMs ?? 0, up: 0 },
    );
  // The first second has no history: a cut there is not counted as without a queue.
  step(1000);
  step(900);
  assertEquals(audit.down, { all: 1, noQueue: 0, otherQueue: 0, noQueueEarly: 0 });
  for (let i = 0; i < 100; i++) step(900);
  step(890); // a 1 % step is no cut
  step(800); // a cut on nothing
  assertEquals(audit.down, { all: 2, noQueue: 1, otherQueue: 0, noQueueEarly: 1 });
  step(800, { delayMs: 10 });
  for (let i = 0; i < 50; i++) step(800);
  step(700); // a queue 0.5 s before: a cut with a queue
  step(600, { loaded: false }); // not loaded: not a cut
  assertEquals(audit.down, { all: 3, noQueue: 1, otherQueue: 0, noQueueEarly: 1 });
  assertEquals(audit.up, { all: 0, noQueue: 0, otherQueue: 0, noQueueEarly: 0 });
});

Deno.test("cut audit: a cut whose own delay stayed small beside the other direction's queue", () => {
  const audit = new CutAudit({ thresholdMs: 15, stepS: 0.01 });
  const step = (rate: number, delayMs: { down: number; up: number }) =>
    audit.record({ down: rate, up: 1000 }, { down: true, up: true }, delayMs);
  for (let i = 0; i < 100; i++) step(1000, { down: 1, up: 20 });
  step(800, { down: 1, up: 20 }); // the upload's queue: the download is cut on the other's
  assertEquals(audit.down, { all: 1, noQueue: 0, otherQueue: 1, noQueueEarly: 0 });
  for (let i = 0; i < 100; i++) step(800, { down: 15, up: 20 });
  step(600, { down: 15, up: 20 }); // its own queue is 43 % of the link's: its own
  assertEquals(audit.down, { all: 2, noQueue: 0, otherQueue: 1, noQueueEarly: 0 });
});
