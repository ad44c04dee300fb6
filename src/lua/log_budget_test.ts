import { assert, assertEquals } from "../util/assert.ts";
import { LOG_BURST_LINES, LOG_DROPPED_PERIOD_S, LOG_LINES_PER_S, LogBudget } from "./log_budget.ts";

Deno.test("log budget: a burst fits, then the rate; the count comes once the flood ended", () => {
  let now = 0;
  const budget = new LogBudget(() => now);
  let ok = 0;
  for (let i = 0; i < 1000; i++) if (budget.take("p: ", "info").ok) ok++;
  assertEquals(ok, LOG_BURST_LINES);
  // Another level and another script have their own buckets.
  assert(budget.take("p: ", "warn").ok);
  assert(budget.take("q: ", "info").ok);
  // One second later the rate's lines fit, without the count (the flood goes on).
  now = 1;
  ok = 0;
  for (let i = 0; i < 100; i++) {
    const r = budget.take("p: ", "info");
    if (r.ok) {
      ok++;
      assertEquals(r.dropped, undefined);
    }
  }
  assertEquals(ok, LOG_LINES_PER_S);
  // Quiet until the bucket is full again: the next line brings the count of all left out.
  now = 1 + LOG_BURST_LINES / LOG_LINES_PER_S;
  const r = budget.take("p: ", "info");
  assert(r.ok && r.dropped !== undefined);
  assertEquals(r.dropped, { lines: 800 + 80, overS: 1 });
  const next = budget.take("p: ", "info");
  assert(next.ok && next.dropped === undefined);
});

Deno.test("log budget: a flood that goes on has its count logged once a period, not with every line", () => {
  let now = 0;
  const budget = new LogBudget(() => now);
  const counts: number[] = [];
  let passed = 0;
  for (let t = 0; t < 3 * LOG_DROPPED_PERIOD_S * 10; t++) {
    now = t / 10;
    for (let i = 0; i < 50; i++) {
      const r = budget.take("flood: ", "info");
      if (!r.ok) continue;
      passed++;
      if (r.dropped !== undefined) counts.push(r.dropped.lines);
    }
  }
  // 180 s: the burst and 20 a second pass; the count every 60 s of the flood.
  assert(passed <= LOG_BURST_LINES + 180 * LOG_LINES_PER_S + 1, `${passed}`);
  assertEquals(counts.length, 2, `${counts}`);
  assert(counts.every((c) => c > 1000), `${counts}`);
});
