import { assert, assertEquals } from "../util/assert.ts";
import { Drain, DRAIN_DEFAULTS, drainBatch } from "./drain.ts";

/** Replies received at `at` (s) with the given queueing delays (ms): sent = at − delay. */
function replies(list: readonly { at: number; ms: number }[]) {
  return {
    deltas: list.map((r) => r.ms),
    at: list.map((r) => r.at),
    sent: list.map((r) => r.at - r.ms / 1000),
  };
}

/** lte seed 1 at a dip's end: replies sent 0.407 s apart arrive within 50 ms. */
function dipEnd() {
  return replies([
    { at: 58.83, ms: 418 },
    { at: 58.85, ms: 307 },
    { at: 58.86, ms: 222 },
    { at: 58.86, ms: 144 },
    { at: 58.88, ms: 61 },
  ]);
}

Deno.test("drain: a batch sent 0.4 s apart that arrives within 50 ms is a drain", () => {
  // A FIFO releasing the probes that queued in a dip: the RTT falls by about the send spacing.
  const x = dipEnd();
  const sent = drainBatch(x, DRAIN_DEFAULTS)?.sent;
  assert(sent !== undefined && Math.abs(sent - 58.819) < 1e-6, `newest send time, got ${sent}`);
});

Deno.test("drain: a standing or slowly draining queue is no drain", () => {
  // Replies spaced as they were sent (a queue of 300 ms that stands) …
  const standing = replies([0, 1, 2, 3, 4].map((k) => ({ at: 10 + 0.1 * k, ms: 300 })));
  assertEquals(drainBatch(standing, DRAIN_DEFAULTS), undefined);
  // … or a queue that drains by 0.2 of the send spacing (our rate 20 % under the capacity): sent
  // 50 ms apart, the replies arrive 40 ms apart.
  const slow = replies(
    [0, 1, 2, 3, 4, 5].map((k) => ({ at: 10.3 + 0.04 * k, ms: 300 - 10 * k })),
  );
  assertEquals(drainBatch(slow, DRAIN_DEFAULTS), undefined);
});

Deno.test("drain: two replies, or a batch sent close together, are no drain", () => {
  const two = replies([{ at: 5.0, ms: 400 }, { at: 5.01, ms: 10 }]);
  assertEquals(drainBatch(two, DRAIN_DEFAULTS), undefined);
  const close = replies([{ at: 5.0, ms: 110 }, { at: 5.0, ms: 60 }, { at: 5.01, ms: 20 }]);
  assertEquals(drainBatch(close, DRAIN_DEFAULTS), undefined);
});

Deno.test("drain: a batch that shows a 1–2 s queue fallen by under a fifth is no drain yet (v63)", () => {
  // lte × 0.05, seed 3, 142.3 s: the capacity is back and the upload's FIFO (1.9 s) begins to
  // drain; replies sent 0.17 s apart arrive within 40 ms, but the newest still shows 93 % of the
  // oldest's queue.
  const first = replies([
    { at: 142.262, ms: 1864 },
    { at: 142.26, ms: 1823 },
    { at: 142.29, ms: 1777 },
    { at: 142.299, ms: 1734 },
  ]);
  assertEquals(drainBatch(first, DRAIN_DEFAULTS), undefined);
  assert(drainBatch(first, { ...DRAIN_DEFAULTS, minFall: 0 }) !== undefined, "a drain without v63");
  // Half a second later the newest shows 30 % of it: a drain.
  const later = replies([
    { at: 142.75, ms: 1250 },
    { at: 142.8, ms: 800 },
    { at: 142.85, ms: 380 },
  ]);
  assert(drainBatch(later, DRAIN_DEFAULTS) !== undefined, "the drain is seen");
  // A queue under 0.45 s that meets the arrival rule always meets it (the fall is 90 ms or more).
  assert(drainBatch(dipEnd(), DRAIN_DEFAULTS) !== undefined);
});

Deno.test("drain: replies sent up to the batch read as clear, later ones as they are", () => {
  const d = new Drain();
  const batch = replies([
    { at: 20.0, ms: 400 },
    { at: 20.02, ms: 250 },
    { at: 20.04, ms: 90 },
  ]);
  assert(d.see(20.05, batch), "the batch is seen");
  assert(!d.see(20.15, batch), "the same batch is not seen twice");
  const later = {
    deltas: [...batch.deltas, 30],
    sent: [...batch.sent, 20.1],
  };
  assertEquals(d.fresh(later.deltas, later.sent), [0, 0, 0, 30]);
  assert(d.after(19.9), "the hold after a cut before the drain is over");
  assert(!d.after(20.1), "a cut after it holds as usual");
});

Deno.test("drain: candidateS 0 turns the rule off", () => {
  assert(new Drain().enabled);
  assert(!new Drain({ candidateS: 0 }).enabled);
});

Deno.test("drain: a batch measures the capacity that drained it (v39)", () => {
  // Sent 0.407 s apart, the batch arrives within 50 ms: drained at about 8 times what arrived.
  const x = dipEnd();
  const batch = drainBatch(x, DRAIN_DEFAULTS);
  assert(
    batch !== undefined && Math.abs(batch.ratio - 0.05 / 0.407) < 1e-6,
    `ratio ${batch?.ratio}`,
  );
  const d = new Drain();
  assert(d.see(58.9, x));
  const shown = d.capacityShown(2000);
  assert(Math.abs(shown - 2000 * 0.407 / 0.05) < 1e-6, `capacity shown ${shown}`);
  // A batch that arrives at once shows at most 1 / levelRatioFloor times the rate.
  const atOnce = new Drain();
  assert(atOnce.see(20.05, replies([0, 1, 2].map((k) => ({ at: 20.0, ms: 400 - 150 * k })))));
  assertEquals(atOnce.capacityShown(2000), 2000 / DRAIN_DEFAULTS.levelRatioFloor);
});
