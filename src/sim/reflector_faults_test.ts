import { assert, assertEquals, assertThrows } from "../util/assert.ts";
import { seededRandom } from "../util/clock.ts";
import type { PingReply } from "../measure/types.ts";
import { makeReflectors, ReflectorField, type SimReflector } from "./reflectors.ts";
import {
  assignFaults,
  parseReflectorFaults,
  REFLECTOR_FAULT_DEFAULTS,
  type ReflectorFault,
} from "./reflector_faults.ts";

/** Probes 3 reflectors (no loss, no queues) for `durationS` of virtual time, echo mode. */
function run(faults: readonly ReflectorFault[], durationS = 300) {
  const refl: SimReflector[] = makeReflectors(3, seededRandom(1), { maxLoss: 0 });
  assignFaults(refl, faults, seededRandom(7));
  const field = new ReflectorField(refl, {
    random: seededRandom(2),
    faultRandom: seededRandom(3),
    mode: "echo",
    intervalS: 0.5,
  });
  const replies: PingReply[] = [];
  const peers = refl.map((r) => r.ip);
  for (let i = 0; i < durationS * 100; i++) {
    const t = i * 0.01;
    field.advance(t);
    field.probe(t, peers);
    field.collect(t, replies);
  }
  const of = (k: number) => replies.filter((r) => r.reflector === refl[k].ip);
  return { refl, field, replies, of };
}

Deno.test("reflector faults: late replies are 20-300 ms late with probability p, others as clean", () => {
  const clean = run([], 60);
  const late = run([{ kind: "late", count: 1, p: 0.2 }], 60);
  const a = clean.of(0), b = late.of(0);
  assertEquals(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const extra = b[i].rttMs - a[i].rttMs;
    if (extra > 1e-9) {
      n++;
      assert(extra >= 20 && extra <= 300, `late by ${extra} ms`);
    } else assertEquals(extra, 0);
  }
  // 120 replies at p = 0.2: about 24 late.
  assert(n >= 12 && n <= 40, `${n} late of ${a.length}`);
  // The other reflectors are untouched (the faults draw from their own stream).
  assertEquals(clean.of(1).map((r) => r.rttMs), late.of(1).map((r) => r.rttMs));
});

Deno.test("reflector faults: a jittery reflector scatters by about 2 x 5 ms", () => {
  const clean = run([], 100), jit = run([{ kind: "jitter", count: 1 }], 100);
  const spread = (rs: PingReply[]) => {
    const min = Math.min(...rs.map((r) => r.rttMs));
    return rs.reduce((s, r) => s + r.rttMs - min, 0) / rs.length;
  };
  assert(spread(clean.of(0)) < 4, `clean ${spread(clean.of(0))}`);
  const s = spread(jit.of(0));
  assert(s > 7 && s < 14, `jittery ${s}`);
});

Deno.test("reflector faults: a dead reflector answers nothing after its time", () => {
  const { refl, of, field } = run([{ kind: "dies", count: 2 }]);
  for (const k of [0, 1]) {
    const at = refl[k].fault!.diesAtS!;
    assert(at >= REFLECTOR_FAULT_DEFAULTS.diesFromS && at <= REFLECTOR_FAULT_DEFAULTS.diesToS);
    const last = Math.max(...of(k).map((r) => r.receiveTimeS));
    assert(last < at + 0.2 && last > at - 1, `last reply ${last} s, dies at ${at} s`);
  }
  assert(of(2).length >= 599, `the third still answers: ${of(2).length}`);
  assert(field.lost > 0);
});

Deno.test("reflector faults: an outage silences a reflector for its minutes, then it answers again", () => {
  const clean = run([]), out = run([{ kind: "outage", count: 1 }]);
  const d = REFLECTOR_FAULT_DEFAULTS;
  const { fromS, toS } = out.refl[0].fault!.outage!;
  assert(fromS >= d.outageFromS && fromS <= d.outageToS, `from ${fromS} s`);
  assert(toS - fromS >= d.outageMinS && toS - fromS <= d.outageMaxS, `lasts ${toS - fromS} s`);
  const times = out.of(0).map((r) => r.receiveTimeS);
  // Nothing is received for the outage (a probe sent just before it may still arrive)…
  assertEquals(times.filter((t) => t > fromS + 0.2 && t < toS).length, 0);
  // …and afterwards every probe is answered as in the clean run.
  const after = (rs: PingReply[]) => rs.filter((r) => r.receiveTimeS >= toS + 0.2);
  assert(after(out.of(0)).length > 100, `${after(out.of(0)).length} replies after the outage`);
  assertEquals(after(out.of(0)).map((r) => r.rttMs), after(clean.of(0)).map((r) => r.rttMs));
  assertEquals(out.of(1).length, clean.of(1).length);
});

Deno.test("reflector faults: a route change raises one direction's delay for its minutes, then not", () => {
  const clean = run([]), route = run([{ kind: "route", count: 1 }]);
  const plan = route.refl[0].fault!.route!;
  assert(plan.addMs >= 20 && plan.addMs <= 60);
  assert(plan.toS - plan.fromS >= 120 && plan.toS - plan.fromS <= 180);
  const a = clean.of(0), b = route.of(0);
  for (let i = 0; i < a.length; i++) {
    const sent = b[i].receiveTimeS - b[i].rttMs / 1000;
    const extra = b[i].rttMs - a[i].rttMs;
    if (sent > plan.fromS + 0.2 && sent < plan.toS - 0.2) {
      assert(Math.abs(extra - plan.addMs) < 1e-6, `${extra} at ${sent}`);
    } else if (sent < plan.fromS - 0.2 || sent > plan.toS + 0.2) {
      assertEquals(extra, 0);
    }
  }
});

Deno.test("reflector faults: given to the first reflectors of the pool; too many is an error", () => {
  const refl = makeReflectors(5, seededRandom(1));
  assignFaults(refl, parseReflectorFaults("late:2,route"), seededRandom(1));
  assertEquals(refl.map((r) => Object.keys(r.fault ?? {})), [
    ["lateP"],
    ["lateP"],
    ["route"],
    [],
    [],
  ]);
  assertEquals(refl[0].fault!.lateP, REFLECTOR_FAULT_DEFAULTS.lateP);
  assertThrows(
    () =>
      assignFaults(
        makeReflectors(2, seededRandom(1)),
        [{ kind: "dies", count: 3 }],
        seededRandom(1),
      ),
    RangeError,
  );
});

Deno.test("reflector faults: parsing", () => {
  assertEquals(parseReflectorFaults("late:2:0.2,jitter"), [
    { kind: "late", count: 2, p: 0.2 },
    { kind: "jitter", count: 1 },
  ]);
  for (const bad of ["slow", "late:0", "late:1.5", "jitter:1:0.2", "late:1:2", "dies:1:0.1:3"]) {
    assertThrows(() => parseReflectorFaults(bad), RangeError);
  }
});
