import { assert, assertEquals } from "../util/assert.ts";
import { exposedGc, HEAP_TRIM_TICKS, HeapTrim } from "./heap_trim.ts";

Deno.test("heap trim: one collection every everyTicks ticks, counted from the last", () => {
  let collections = 0;
  const trim = new HeapTrim({ gc: () => collections++, everyTicks: 3 });
  assert(trim.active);
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) {
    trim.tick();
    seen.push(collections);
  }
  assertEquals(seen, [0, 0, 1, 1, 1, 2, 2, 2, 3, 3]);
});

Deno.test("heap trim: without an exposed gc() nothing is collected", () => {
  const trim = new HeapTrim({ gc: undefined });
  assert(!trim.active);
  for (let i = 0; i < 2 * HEAP_TRIM_TICKS; i++) trim.tick();
});

Deno.test("heap trim: exposedGc is V8's gc() exactly when the runtime has one", () => {
  const g = globalThis as { gc?: unknown };
  const had = g.gc;
  try {
    let calls = 0;
    g.gc = () => calls++;
    exposedGc()?.();
    assertEquals(calls, 1);
    delete g.gc;
    assertEquals(exposedGc(), undefined);
  } finally {
    if (had !== undefined) g.gc = had;
  }
});
