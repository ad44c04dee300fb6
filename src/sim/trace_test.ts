import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../util/assert.ts";
import {
  BUILTIN_TRACES,
  builtinTrace,
  capacityAt,
  type CapacityTrace,
  drainS,
  parseTraceCsv,
  scaledTrace,
  TraceParseError,
} from "./trace.ts";

Deno.test("parseTraceCsv holds each point until the next and takes nominal from p95", () => {
  const t = parseTraceCsv("time_s,down_kbit,up_kbit\n0,10000,2000\n5,5000,1000\n10,10000,2000\n");
  assertEquals(capacityAt(t, "down", 0), 10000);
  assertEquals(capacityAt(t, "down", 4.95), 10000);
  assertEquals(capacityAt(t, "down", 5), 5000);
  assertEquals(capacityAt(t, "up", 7), 1000);
  assertEquals(capacityAt(t, "up", 100), 2000); // last point holds
  assertEquals(t.nominal, { down: 10000, up: 2000 });
});

Deno.test("parseTraceCsv reports every bad line with its line number", () => {
  const text = [
    "time_s,down_kbit,up_kbit",
    "0,10000,2000",
    "1,abc,2000", // line 3
    "2,10000", // line 4
    "# a comment",
    "",
    "1.5,9000,1000", // line 7: not after 1? previous accepted is 0 -> fine
    "1.0,9000,1000", // line 8: not after 1.5
    "3,-5,1000", // line 9
  ].join("\n");
  const e = assertThrows(() => parseTraceCsv(text, { source: "t.csv" }), TraceParseError);
  assertEquals(e.problems.length, 4);
  assert(e.problems[0].startsWith("t.csv:3:"), e.problems[0]);
  assert(e.problems[1].startsWith("t.csv:4:"), e.problems[1]);
  assert(e.problems[2].startsWith("t.csv:8:"), e.problems[2]);
  assert(e.problems[3].startsWith("t.csv:9:"), e.problems[3]);
  assert(e.message.includes("t.csv:9"));
});

Deno.test("parseTraceCsv requires the header", () => {
  const e = assertThrows(
    () => parseTraceCsv("0,1000,100\n1,1000,100\n", { source: "x" }),
    TraceParseError,
  );
  assert(e.problems[0].startsWith("x:1: expected header"), e.problems[0]);
  assertThrows(() => parseTraceCsv("", { source: "x" }), TraceParseError);
  assertThrows(() => parseTraceCsv("time_s,down_kbit,up_kbit\n", { source: "x" }), TraceParseError);
});

Deno.test("built-in traces: deterministic per seed, positive, with their documented shape", () => {
  for (const name of BUILTIN_TRACES) {
    const a = builtinTrace(name, { durationS: 120, seed: 3 });
    const b = builtinTrace(name, { durationS: 120, seed: 3 });
    assertEquals(a.down, b.down);
    assert(a.down.every((x) => x > 0) && a.up.every((x) => x > 0), name);
  }
  const step = builtinTrace("step", { durationS: 120, seed: 1 });
  assertEquals(capacityAt(step, "down", 30), 20000);
  assertEquals(capacityAt(step, "down", 50), 10000);
  assertEquals(capacityAt(step, "down", 90), 20000);
  const star = builtinTrace("starlink", { durationS: 60, seed: 1 });
  assert(capacityAt(star, "down", 12.1) < 0.5 * capacityAt(star, "down", 11.5));
  const cable = builtinTrace("cable-evening", { durationS: 120, seed: 1 });
  assert(capacityAt(cable, "down", 60) < 0.6 * capacityAt(cable, "down", 1));
  const lte1 = builtinTrace("lte", { durationS: 120, seed: 1 });
  const lte2 = builtinTrace("lte", { durationS: 120, seed: 2 });
  assert(lte1.down.some((x, i) => x !== lte2.down[i]), "seed changes lte");
  assert(Math.min(...lte1.down) < 0.35 * lte1.nominal.down, "lte has deep dips");
});

Deno.test("builtinTrace periodS: step and cable-evening repeat their shape, lte does not change", () => {
  const step = builtinTrace("step", { durationS: 3600, seed: 1, periodS: 300 });
  for (const k of [0, 5, 11]) {
    assertEquals(capacityAt(step, "down", k * 300 + 50), 20000);
    assertEquals(capacityAt(step, "down", k * 300 + 150), 10000);
    assertEquals(capacityAt(step, "down", k * 300 + 250), 20000);
  }
  const cable = builtinTrace("cable-evening", { durationS: 3600, seed: 1, periodS: 300 });
  assert(capacityAt(cable, "down", 3450) < 0.6 * capacityAt(cable, "down", 3301));
  // The period of a run's own length is the trace without it.
  for (const name of BUILTIN_TRACES) {
    const a = builtinTrace(name, { durationS: 600, seed: 2 });
    assertEquals(builtinTrace(name, { durationS: 600, seed: 2, periodS: 600 }).down, a.down, name);
  }
  const lte = builtinTrace("lte", { durationS: 600, seed: 2 });
  assertEquals(builtinTrace("lte", { durationS: 600, seed: 2, periodS: 60 }).up, lte.up);
  assertThrows(() => builtinTrace("step", { durationS: 60, seed: 1, periodS: 0 }), RangeError);
});

Deno.test("drainS serves a backlog at the capacity to come: a rise drains it early", () => {
  // Upload 1.5 Mbit/s (187.5 kB/s) until 1 s, then 10 Mbit/s (1.25 MB/s).
  const trace: CapacityTrace = {
    name: "t",
    nominal: { down: 20_000, up: 10_000 },
    stepS: 0.5,
    down: new Float64Array([20_000, 20_000, 20_000]),
    up: new Float64Array([1_500, 1_500, 10_000]),
  };
  // 56.25 kB at 1.5 Mbit/s is 300 ms when the capacity holds…
  assertAlmostEquals(drainS(trace, { dir: "up", t: 0.2, bytes: 56_250 }), 0.3, 1e-9);
  // …but from 0.9 s only 0.1 s of it (18.75 kB) drains slowly, the rest at 10 Mbit/s.
  assertAlmostEquals(
    drainS(trace, { dir: "up", t: 0.9, bytes: 56_250 }),
    0.1 + 37_500 / 1_250_000,
    1e-9,
  );
  // Past the trace's end its last sample holds; nothing ahead waits nothing.
  assertAlmostEquals(drainS(trace, { dir: "up", t: 5, bytes: 125_000 }), 0.1, 1e-9);
  assertEquals(drainS(trace, { dir: "down", t: 0, bytes: 0 }), 0);
});

Deno.test("scaledTrace multiplies every sample and the nominal, and refuses a factor of 0", () => {
  const t = builtinTrace("lte", { durationS: 30, seed: 2 });
  const s = scaledTrace(t, 0.05);
  assertEquals(s.nominal, { down: t.nominal.down * 0.05, up: t.nominal.up * 0.05 });
  assertEquals(s.down.length, t.down.length);
  for (let i = 0; i < t.down.length; i += 37) {
    assertAlmostEquals(s.down[i], t.down[i] * 0.05, 1e-9);
    assertAlmostEquals(s.up[i], t.up[i] * 0.05, 1e-9);
  }
  assert(assertThrows(() => scaledTrace(t, 0), RangeError).message.includes("above 0"));
});
