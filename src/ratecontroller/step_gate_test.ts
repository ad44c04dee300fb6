import { assertEquals } from "../util/assert.ts";
import { StepGate } from "./step_gate.ts";
import { hardClampRate } from "../control/rate_bounds.ts";

/** The loop's part: the handed rate in force, floored to whole kbit/s by the rate clamp. */
const inForce = (handed: number): number => hardClampRate(handed);

Deno.test("step gate: steps under 1 % are held back until they add up, then handed on together", () => {
  const g = new StepGate(0.01);
  let cur = 10000;
  const handed: number[] = [];
  for (let i = 0; i < 12; i++) {
    const own = g.from(cur);
    const out = g.pass(cur, own + 15); // 0.15 % per decision
    handed.push(out);
    cur = inForce(out);
  }
  // Six steps of 15 kbit/s are 90 (held), the seventh makes 105 ≥ 100: handed on at once.
  assertEquals(handed.slice(0, 6), [10000, 10000, 10000, 10000, 10000, 10000]);
  assertEquals(handed[6], 10105);
  assertEquals(handed.slice(7, 12), [10105, 10105, 10105, 10105, 10105]);
  assertEquals(g.from(cur), 10180, "the held steps are not lost");
});

Deno.test("step gate: a decrease is handed on at once, however small", () => {
  const g = new StepGate(0.01);
  g.from(10000);
  assertEquals(g.pass(10000, 10050), 10000, "+0.5 %: held");
  assertEquals(g.from(10000), 10050);
  assertEquals(g.pass(10000, 10020), 10000, "still above the rate in force: held");
  assertEquals(g.pass(10000, 9990), 9990, "−0.1 %: at once");
  assertEquals(g.from(9990), 9990);
});

Deno.test("step gate: a rate in force it did not hand on (failed change, clamp, plugin) resets its own", () => {
  const g = new StepGate(0.01);
  g.from(10000);
  assertEquals(g.pass(10000, 10050), 10000);
  assertEquals(g.from(10000), 10050, "held step kept while the rate in force is the handed one");
  assertEquals(g.from(8000), 8000, "someone else set 8000: go on from there");
  assertEquals(g.pass(8000, 8050), 8000);
  assertEquals(g.from(8000), 8050);
});

Deno.test("step gate: 0 hands every change on and keeps no rate of its own", () => {
  const g = new StepGate(0);
  assertEquals(g.pass(10000, 10000.4), 10000.4);
  assertEquals(
    g.from(10000),
    10000,
    "the loop floored it: the fraction is gone, as without a gate",
  );
});
