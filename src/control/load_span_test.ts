import { assert, assertEquals } from "../util/assert.ts";
import { loadChanged, LoadReferences, MAX_LOAD_REFERENCES } from "./load_span.ts";

const reading = (bytes: number) => ({
  dlBytes: bytes,
  ulBytes: bytes,
  dlIfindex: 1,
  ulIfindex: 2,
});

Deno.test("load span: with no uncertainty a load runs from the last reading", () => {
  const refs = new LoadReferences();
  for (let i = 0; i < 5; i++) refs.add({ counters: reading(i), readS: i * 0.1 });
  assertEquals(refs.pick(0.5, 0).readS, 0.4);
});

Deno.test("load span: with uncertainty, from the newest reading far enough back (2.5 % of the span)", () => {
  const refs = new LoadReferences();
  for (let i = 0; i <= 10; i++) refs.add({ counters: reading(i), readS: i * 0.1 });
  // 5 ms uncertain: a span of at least 0.2 s.
  assertEquals(refs.pick(1.1, 0.005).readS.toFixed(1), "0.9");
  // 20 ms: 0.8 s.
  assertEquals(refs.pick(1.1, 0.02).readS.toFixed(1), "0.3");
  // More than all kept cover: the oldest.
  assertEquals(refs.pick(1.1, 1).readS, 0);
});

Deno.test("load span: a reset leaves one reference (or none); at most MAX_LOAD_REFERENCES kept", () => {
  const refs = new LoadReferences();
  for (let i = 0; i < MAX_LOAD_REFERENCES + 10; i++) refs.add({ counters: reading(i), readS: i });
  assertEquals(refs.pick(1000, 1000).readS, 10);
  refs.reset({ counters: reading(0), readS: 50 });
  assertEquals(refs.pick(60, 1000).readS, 50);
  refs.reset();
  assertEquals(refs.last, undefined);
});

Deno.test("load span: a last-decision load is a change when it differs beyond 3 × its uncertainty", () => {
  // 5 ms uncertain over 0.1 s: 5 % each, 15 % tolerated.
  const x = { shortS: 0.1, uncertaintyS: 0.005 };
  assert(!loadChanged(8600, 8000, x));
  assert(loadChanged(6000, 8000, x));
  assert(loadChanged(80000, 8000, x));
  assert(!loadChanged(0, 0, x));
});
