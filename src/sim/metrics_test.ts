import { assert, assertEquals } from "../util/assert.ts";
import { DirectionRecorder } from "./metrics.ts";
import { parseTraceCsv } from "./trace.ts";

const trace = parseTraceCsv("time_s,down_kbit,up_kbit\n0,1000,1000\n5,500,500\n", {
  durationS: 20,
});

/** Records 20 s at 10 ms with `delayAt(t)` as the added delay; always loaded. */
function record(delayAt: (t: number) => number) {
  const rec = new DirectionRecorder({ steps: 2000, dt: 0.01, thresholdMs: 15 });
  for (let i = 0; i < 2000; i++) {
    const t = i * 0.01;
    const cap = t < 5 ? 1000 : 500;
    rec.record(true, delayAt(t), cap, cap * 125 * 0.01 * 0.9, 900);
  }
  return rec.summary(trace, "down");
}

Deno.test("recovery: time from the drop until delay stays under the threshold for 1 s", () => {
  // Above the threshold from 5.2 s to 7.5 s, with a short dip under it at 6 s.
  const s = record((t) => (t >= 5.2 && t < 7.5 && !(t >= 6 && t < 6.3) ? 40 : 2));
  assertEquals(s.recoveriesS.length, 1);
  assert(Math.abs(s.recoveriesS[0]! - 2.5) < 0.02, `${s.recoveriesS[0]}`);
  assertEquals(s.unrecoveredDrops, 0);
  assert(Math.abs(s.maxRecoveryS! - 2.5) < 0.02);
});

Deno.test("recovery: never when the delay stays high; 0 when it never rose", () => {
  const never = record((t) => (t >= 5.1 ? 100 : 0));
  assertEquals(never.recoveriesS, [null]);
  assertEquals(never.unrecoveredDrops, 1);
  assertEquals(never.maxRecoveryS, null);
  const calm = record(() => 1);
  assertEquals(calm.recoveriesS, [0]);
});

Deno.test("percentiles, utilisation, time above threshold and rate changes", () => {
  const rec = new DirectionRecorder({ steps: 100, dt: 0.01, thresholdMs: 15 });
  for (let i = 0; i < 100; i++) {
    // Delays 0..99 ms; only the first 80 steps loaded; rate changes twice.
    rec.record(
      i < 80,
      i,
      1000,
      i < 80 ? 1000 * 125 * 0.01 * 0.5 : 0,
      i < 30 ? 800 : i < 60 ? 900 : 700,
    );
  }
  const s = rec.summary(trace, "down");
  assertEquals(s.loadedS, 0.8);
  assertEquals(s.p50DelayMs, 39.5);
  assertEquals(s.p99DelayMs, 78.21);
  assertEquals(s.utilisationPct, 50);
  assertEquals(s.aboveThresholdPct, 80); // 16..79 of 0..79
  assertEquals(s.rateChanges, 2);
});

Deno.test("recovery: a drop not recovered from before the next drop counts as never", () => {
  const twoDrops = parseTraceCsv(
    "time_s,down_kbit,up_kbit\n0,1000,1000\n5,500,500\n6,1000,1000\n10,400,400\n",
    { durationS: 20 },
  );
  const rec = new DirectionRecorder({ steps: 2000, dt: 0.01, thresholdMs: 15 });
  for (let i = 0; i < 2000; i++) {
    const t = i * 0.01;
    // High from the first drop until 12 s, then low.
    rec.record(true, t >= 5 && t < 12 ? 50 : 1, 1000, 0, 900);
  }
  const s = rec.summary(twoDrops, "down");
  assertEquals(s.recoveriesS.length, 2);
  assertEquals(s.recoveriesS[0], null);
  assert(Math.abs(s.recoveriesS[1]! - 2) < 0.02, `${s.recoveriesS[1]}`);
  assertEquals(s.unrecoveredDrops, 1);
});

Deno.test("ramp-up: time from each load start until 0.5 s at >= 90 % of capacity", () => {
  const rec = new DirectionRecorder({ steps: 2000, dt: 0.01, thresholdMs: 15 });
  const capStep = 1000 * 125 * 0.01;
  for (let i = 0; i < 2000; i++) {
    const t = i * 0.01;
    // Load 0–8 s (full rate from 1.5 s on), idle 8–10 s, load 10–12 s never above 80 %.
    const loaded = t < 8 || (t >= 10 && t < 12);
    const share = t < 8 ? (t < 1.5 ? 0.5 : 0.95) : 0.8;
    rec.record(loaded, 0, 1000, loaded ? share * capStep : 0, 900);
  }
  const s = rec.summary(trace, "down");
  // The first 0.5 s window averaging >= 90 % starts a few steps before 1.5 s.
  assertEquals(s.rampupsS.length, 2);
  assert(s.rampupsS[0]! > 1.4 && s.rampupsS[0]! <= 1.5, `${s.rampupsS[0]}`);
  assertEquals(s.rampupsS[1], null);
  assertEquals(s.unreachedRampups, 1);
  // The unreached one counts as its 2 s load period, a lower bound.
  assertEquals(s.maxRampupS, 2);
  assertEquals(s.medianRampupS, Math.round(((s.rampupsS[0]! + 2) / 2) * 100) / 100);
});

Deno.test("climb: time from each capacity rise under load until 0.5 s at >= 90 % of it", () => {
  // 1000 → 500 at 5 s, back to 1000 at 10 s (a rise), 500 at 15 s, 1000 at 18 s (a rise).
  const upDown = parseTraceCsv(
    "time_s,down_kbit,up_kbit\n0,1000,1000\n5,500,500\n10,1000,1000\n15,500,500\n18,1000,1000\n",
    { durationS: 20 },
  );
  const rec = new DirectionRecorder({ steps: 2000, dt: 0.01, thresholdMs: 15 });
  for (let i = 0; i < 2000; i++) {
    const t = i * 0.01;
    const cap = t < 5 || (t >= 10 && t < 15) || t >= 18 ? 1000 : 500;
    // Delivers 500 until 13 s (3 s after the first rise), then all of it except 18–20 s.
    const got = t < 13 ? 500 : t < 18 ? cap : 700;
    rec.record(true, 0, cap, got * 125 * 0.01, 900);
  }
  const s = rec.summary(upDown, "down");
  assertEquals(s.climbsS.length, 2);
  // The first window averaging >= 90 % starts a little before 13 s.
  assert(s.climbsS[0]! >= 2.85 && s.climbsS[0]! <= 3, `${s.climbsS[0]}`);
  // The second rise is never climbed: it had until the end of the run (2 s).
  assertEquals(s.climbsS[1], null);
  assertEquals(s.unreachedClimbs, 1);
  assertEquals(s.maxClimbS, s.climbsS[0]);
  assertEquals(s.meanClimbS, Math.round(((s.climbsS[0]! + 2) / 2) * 100) / 100);
  // Drops are found as before: two.
  assertEquals(s.recoveriesS.length, 2);
});
