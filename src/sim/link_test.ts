import { assertAlmostEquals, assertEquals } from "../util/assert.ts";
import { LinkDirection, type StepResult } from "./link.ts";

const DT = 0.01;

/** An upload direction with a FIFO (tbf) shaper and a roomy bottleneck. */
function tbfUpload(tbfBucket: boolean) {
  const link = new LinkDirection({
    dir: "up",
    bufferBytes: 1e7,
    shaperQueue: "fifo",
    tbfBucket,
  });
  const res: StepResult = { delivered: 0, dropped: 0, aqmSignal: false };
  /** One step with `arrivals` bytes offered; returns the bytes the shaper let through. */
  const step = (k: number, arrivals: number) => {
    const before = link.counterBytes;
    link.step(k * DT, DT, arrivals, 100_000, res);
    return link.counterBytes - before;
  };
  return { link, step };
}

Deno.test("a tbf shaper's rate change refills its bucket: a backlog leaves a burst above the rate", () => {
  const { link, step } = tbfUpload(true);
  link.shaperKbit = 16_000; // 2 MB/s: 20 kB per step, burst max(3200, 10 kB) = 10 kB
  // The first setting fills the bucket: its burst leaves on top of the rate.
  assertAlmostEquals(step(0, 60_000), 30_000, 1e-6);
  // Saturated, the bucket stays empty: exactly the rate.
  for (let k = 1; k <= 5; k++) assertAlmostEquals(step(k, 20_000), 20_000, 1e-6);
  // A change (even down) refills it with the largest burst set so far (it never shrinks).
  link.shaperKbit = 8_000; // 10 kB per step; its own burst would be 5 kB
  assertAlmostEquals(step(6, 20_000), 20_000, 1e-6);
  assertAlmostEquals(step(7, 10_000), 10_000, 1e-6);
  // The same rate set again is no change (the daemon calls tc only on a change): no refill.
  link.shaperKbit = 8_000;
  assertAlmostEquals(step(8, 10_000), 10_000, 1e-6);
});

Deno.test("a tbf shaper's bucket fills while it is short of work, up to the burst", () => {
  const { link, step } = tbfUpload(true);
  link.shaperKbit = 16_000;
  step(0, 0); // idle: the bucket holds its 10 kB burst
  step(1, 0);
  assertAlmostEquals(step(2, 50_000), 30_000, 1e-6);
  assertAlmostEquals(step(3, 0), 20_000, 1e-6);
});

Deno.test("without the bucket a tbf shaper serves exactly its rate, after a change too", () => {
  const { link, step } = tbfUpload(false);
  link.shaperKbit = 16_000;
  assertAlmostEquals(step(0, 60_000), 20_000, 1e-6);
  link.shaperKbit = 8_000;
  assertAlmostEquals(step(1, 0), 10_000, 1e-6);
  // A CAKE-like shaper ignores the option.
  const cake = new LinkDirection({ dir: "up", bufferBytes: 1e7, tbfBucket: true });
  cake.shaperKbit = 16_000;
  const res: StepResult = { delivered: 0, dropped: 0, aqmSignal: false };
  cake.step(0, DT, 60_000, 100_000, res);
  assertEquals(cake.counterBytes, 20_000);
});
