import { assert, assertEquals } from "../util/assert.ts";
import { UploadCeiling } from "./upload_ceiling.ts";

const M = { margin: 0.95 };

Deno.test("upload ceiling: a cut above the known level caps the return under its measure until keepS", () => {
  const c = new UploadCeiling({}, -100);
  c.cut({ now: 10, cur: 7000, known: 6000, estimate: 6400 });
  assertEquals(c.target(12, { thr: 6000, ...M }), 6400 * 0.95);
  assertEquals(c.target(15.5, { thr: 6000, ...M }), Infinity);
});

Deno.test("upload ceiling: a cut at the known level is no overshoot and notes nothing", () => {
  const c = new UploadCeiling({}, -100);
  c.cut({ now: 10, cur: 6100, known: 6000, estimate: 5000 });
  assertEquals(c.target(11, { thr: 5000, ...M }), Infinity);
});

Deno.test("upload ceiling: the burst's later cuts measure the drain and keep the first measure", () => {
  const c = new UploadCeiling({}, -100);
  c.cut({ now: 10, cur: 7000, known: 6000, estimate: 6400 });
  c.cut({ now: 10.1, cur: 6100, known: 5800, estimate: 5200 });
  assertEquals(c.target(11, { thr: 5000, ...M }), 6400 * 0.95);
  c.cut({ now: 11.2, cur: 7000, known: 5800, estimate: 6000 });
  assertEquals(c.target(11.5, { thr: 5000, ...M }), 6000 * 0.95);
});

Deno.test("upload ceiling: delivering above it shows a grown capacity and lifts it", () => {
  const c = new UploadCeiling({}, -100);
  c.cut({ now: 10, cur: 7000, known: 6000, estimate: 6400 });
  assertEquals(c.target(11, { thr: 6600, ...M }), Infinity);
  assertEquals(c.target(11.1, { thr: 6000, ...M }), Infinity);
});

Deno.test("upload ceiling: the first climb after a long light load is an overshoot, after a dip's trough not", () => {
  const start = new UploadCeiling({}, 0);
  start.cut({ now: 0.7, cur: 12900, known: 14250, estimate: 9900 });
  assert(start.target(1, { thr: 9000, ...M }) < 9500, "the start's first cut caps the return");
  const trough = new UploadCeiling({}, -100);
  trough.light(50, 0.1);
  trough.light(50.1, 0.1); // 0.1 s of light load: a dip's trough, not an idle period
  trough.cut({ now: 51, cur: 5000, known: 6000, estimate: 4000 });
  assertEquals(trough.target(51.5, { thr: 4000, ...M }), Infinity);
  const idle = new UploadCeiling({}, -100);
  for (let t = 50; t <= 53; t += 0.1) idle.light(t, 0.1);
  idle.cut({ now: 54, cur: 5000, known: 6000, estimate: 4000 });
  assertEquals(idle.target(54.5, { thr: 4000, ...M }), Infinity, "a pause of 3 s is too short");
  for (let t = 60; t <= 65.5; t += 0.1) idle.light(t, 0.1);
  idle.cut({ now: 66, cur: 5000, known: 6000, estimate: 4000 });
  assertEquals(idle.target(66.5, { thr: 4000, ...M }), 4000 * 0.95);
});

Deno.test("upload ceiling: keepS 0 turns the rule off", () => {
  const c = new UploadCeiling({ keepS: 0 }, -100);
  c.cut({ now: 10, cur: 7000, known: 6000, estimate: 6400 });
  assertEquals(c.target(11, { thr: 6000, ...M }), Infinity);
});

Deno.test("upload ceiling: a cut whose estimate is within 4 % of the rate measured no excess and notes nothing", () => {
  const c = new UploadCeiling({}, -100);
  c.cut({ now: 10, cur: 3660, known: 3400, estimate: 3580 });
  assertEquals(c.target(11, { thr: 3400, ...M }), Infinity);
  c.cut({ now: 12, cur: 3660, known: 3400, estimate: 3500 });
  assertEquals(c.target(12.5, { thr: 3400, ...M }), 3500 * 0.95, "4.4 % under the rate is one");
});

Deno.test("upload ceiling: it follows what the upload delivers at a clear RTT, not under a queue", () => {
  const c = new UploadCeiling({}, -100);
  c.cut({ now: 10, cur: 7000, known: 6000, estimate: 6400 });
  c.observe(10.5, { clear: false, thr: 6550 });
  assertEquals(c.target(10.5, { thr: 6550, ...M }), 6400 * 0.95, "a queue stands: no evidence");
  c.observe(11, { clear: true, thr: 6550 });
  assertEquals(c.target(11, { thr: 6550, ...M }), 6550 * 0.95);
  c.observe(11.5, { clear: true, thr: 6200 });
  assertEquals(c.target(11.5, { thr: 6200, ...M }), 6550 * 0.95, "the most within followS");
  const off = new UploadCeiling({ followS: 0 }, -100);
  off.cut({ now: 10, cur: 7000, known: 6000, estimate: 6400 });
  off.observe(11, { clear: true, thr: 6550 });
  assertEquals(off.target(11, { thr: 6550, ...M }), 6400 * 0.95);
});
