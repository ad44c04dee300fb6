import { assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { OwdState } from "./ports.ts";
import { LATE_DEFAULTS, lateReflectors } from "./late_reflectors.ts";

const PEERS = ["p1", "p2", "p3", "p4", "p5"];

/** Each peer's last reply: received at `atS` with `addedMs` of round trip over its baseline. */
function state(replies: { atS: number; addedMs: number }[]): OwdState {
  const owd = createOwdState(PEERS);
  replies.forEach((r, i) => {
    const ip = PEERS[i];
    owd.baseline.set(ip, { up_ewma: 10, down_ewma: 10, last_receive_time_s: r.atS });
    const last = {
      up_ewma: 10 + r.addedMs / 2,
      down_ewma: 10 + r.addedMs / 2,
      last_receive_time_s: r.atS,
    };
    owd.latest!.set(ip, last);
    // The fast EWMA lags the last reply: the rule reads the reply itself.
    owd.recent.set(ip, { ...last, up_ewma: 10, down_ewma: 10 });
  });
  return owd;
}

const OPTS = { tickInterval: 0.5, params: LATE_DEFAULTS };

Deno.test("late reflectors: stale peers while the replies that arrive show a queue are late", () => {
  // At 10 s two replies came back 1 s late; three peers last answered before the queue built.
  const owd = state([
    { atS: 9.9, addedMs: 1000 },
    { atS: 9.5, addedMs: 700 },
    { atS: 8.6, addedMs: 0 },
    { atS: 8.8, addedMs: 0 },
    { atS: 8.9, addedMs: 0 },
  ]);
  assertEquals(lateReflectors(owd, 10, OPTS), 3);
  // None fresh at 11.7 s: the newest reply's queue (1 s) explains 1 + 2 × 1 s of silence, so
  // the peer silent since 8.6 s is gone and the other four are late.
  assertEquals(lateReflectors(owd, 11.7, OPTS), 4);
});

Deno.test("late reflectors: silent peers while the replies show no queue are gone (dead)", () => {
  const owd = state([
    { atS: 9.9, addedMs: 5 },
    { atS: 9.8, addedMs: 30 },
    { atS: 8.0, addedMs: 0 },
    { atS: 8.0, addedMs: 2 },
    { atS: 9.7, addedMs: 10 },
  ]);
  assertEquals(lateReflectors(owd, 10, OPTS), 0);
});

Deno.test("late reflectors: with none fresh, the newest reply's queue decides", () => {
  const late = state([
    { atS: 8.8, addedMs: 1500 },
    { atS: 8.0, addedMs: 0 },
    { atS: 7.5, addedMs: 0 },
    { atS: 7.9, addedMs: 0 },
    { atS: 7.0, addedMs: 0 },
  ]);
  assertEquals(lateReflectors(late, 10, OPTS), 5);
  // Everything silent for longer than the queue explains: an outage, not a queue.
  assertEquals(lateReflectors(late, 13, OPTS), 0);
  const quiet = state(PEERS.map(() => ({ atS: 8.5, addedMs: 20 })));
  assertEquals(lateReflectors(quiet, 10, OPTS), 0);
});
