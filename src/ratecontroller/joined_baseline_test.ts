import { assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { OwdState } from "../control/ports.ts";
import { readSamples } from "./sample_view.ts";
import { JoinedBaseline } from "./joined_baseline.ts";

const OLD = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
const NEW = "192.0.2.9";
const FRESH_S = 1;
const CLEAR_MS = 7.5;

/** Sets `ip`'s baseline (created if new) and its last sample, `added` ms above that, at `t`. */
function put(
  owd: OwdState,
  ip: string,
  o: { t: number; base?: number; added: number },
): void {
  const base = owd.baseline.get(ip);
  if (base === undefined || o.base !== undefined) {
    const b = o.base ?? 20;
    owd.baseline.set(ip, { up_ewma: b, down_ewma: b, last_receive_time_s: o.t });
    owd.recent.set(ip, { up_ewma: b, down_ewma: b, last_receive_time_s: o.t });
  }
  const b = owd.baseline.get(ip)!;
  b.last_receive_time_s = o.t;
  owd.latest!.set(ip, {
    up_ewma: b.up_ewma + o.added,
    down_ewma: b.down_ewma + o.added,
    last_receive_time_s: o.t,
  });
}

/** Three established reflectors (seen from t = 0), at time `t` each showing `queueMs`. */
function established(owd: OwdState, rule: JoinedBaseline, t: number, queueMs: number): void {
  for (const ip of OLD) put(owd, ip, { t, added: queueMs });
  rule.correct(readSamples(owd, t, FRESH_S), { owd, now: t, clearMs: CLEAR_MS });
}

/** The rule's view of every fresh reflector's download delta at `t`. */
function view(owd: OwdState, rule: JoinedBaseline, t: number): Record<string, number> {
  const v = readSamples(owd, t, FRESH_S);
  rule.correct(v, { owd, now: t, clearMs: CLEAR_MS });
  return Object.fromEntries(v.ip.map((ip, i) => [ip, Math.round(v.dl[i])]));
}

/**
 * The established reflectors seen from 0 s, showing `queueMs` from 5 s; at 5.1 s a reselection
 * draws NEW, whose first sample (its baseline, `baseMs`) lies in that queue.
 */
function joinDuring(queueMs: number, baseMs: number): { owd: OwdState; rule: JoinedBaseline } {
  const owd = createOwdState(OLD);
  const rule = new JoinedBaseline();
  established(owd, rule, 0, 0);
  established(owd, rule, 5, queueMs);
  owd.peers = [...OLD, NEW];
  put(owd, NEW, { t: 5.1, base: baseMs, added: 0 });
  for (const ip of OLD) put(owd, ip, { t: 5.1, added: queueMs });
  return { owd, rule };
}

Deno.test("a reflector whose baseline began in a standing queue gets the others' queue back", () => {
  // A reselection draws a new reflector: its baseline is its first sample, 800 ms in the queue.
  const { owd, rule } = joinDuring(800, 820);
  // Without the rule it would read 0 ms, a queue gone.
  assertEquals(view(owd, rule, 5.1)[NEW], 800);
  assertEquals(rule.offset(NEW, owd), { dl: 800, ul: 800 });
});

Deno.test("the correction shrinks as the new reflector's own baseline falls to the path's floor", () => {
  const { owd, rule } = joinDuring(800, 820);
  view(owd, rule, 5.1);
  // The queue drains halfway: the new reflector's sample falls under its baseline, which the
  // baseliner's minimum follows down by 400 ms.
  owd.baseline.get(NEW)!.down_ewma = 420;
  owd.baseline.get(NEW)!.up_ewma = 420;
  put(owd, NEW, { t: 6, added: 0 });
  for (const ip of OLD) put(owd, ip, { t: 6, added: 400 });
  assertEquals(view(owd, rule, 6)[NEW], 400);
  assertEquals(rule.offset(NEW, owd).dl, 400);
});

Deno.test("no correction for a reflector that joins while the others show no queue", () => {
  const { owd, rule } = joinDuring(3, 40);
  assertEquals(view(owd, rule, 5.1)[NEW], 0);
});

Deno.test("no correction in a queue under a standing one (lte's native queues under load)", () => {
  // 2 × 100 ms: a round trip of 200 ms.
  const { owd, rule } = joinDuring(100, 120);
  assertEquals(view(owd, rule, 5.1)[NEW], 0);
});

Deno.test("the correction ends when the established reflectors show no queue", () => {
  const { owd, rule } = joinDuring(800, 820);
  view(owd, rule, 5.1);
  // Their view predated the queue's drain: the new baseline was not taken in the queue.
  for (const ip of OLD) put(owd, ip, { t: 5.5, added: 0 });
  put(owd, NEW, { t: 5.5, added: 0 });
  assertEquals(view(owd, rule, 5.5)[NEW], 0);
  assertEquals(rule.offset(NEW, owd).dl, 0);
});

Deno.test("a reflector back after a short gap keeps its baseline uncorrected", () => {
  const owd = createOwdState([...OLD, NEW]);
  const rule = new JoinedBaseline();
  for (const ip of [...OLD, NEW]) put(owd, ip, { t: 0, added: 0 });
  view(owd, rule, 0);
  // NEW leaves the peers, comes back 10 s later (under the baseliner's 30 s stale gap) in a queue.
  owd.peers = OLD;
  established(owd, rule, 5, 0);
  owd.peers = [...OLD, NEW];
  for (const ip of [...OLD, NEW]) put(owd, ip, { t: 10, added: 800 });
  assertEquals(view(owd, rule, 10)[NEW], 800);
  assertEquals(rule.offset(NEW, owd).dl, 0);
});
