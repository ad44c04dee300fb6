import { assertEquals } from "../util/assert.ts";
import { updateFall } from "./fall_measure.ts";

const P = { pass: 1.1, fastUpTo: 0.85, refine: true };

Deno.test("fall measure: a cut in the dip above the first measure refines it, the fall stays open (v74a)", () => {
  // Fell from 197 Mbit/s; the transient measured 75; a cut in the dip found 84 (> 1.1 × 75).
  const s = { cutCap: 84000, fallCap: 75000, fallFrom: 197000 };
  updateFall(s, P);
  assertEquals(s.fallCap, 84000);
  // Before v74a that cut ended the fall.
  const old = { cutCap: 84000, fallCap: 75000, fallFrom: 197000 };
  updateFall(old, { ...P, refine: false });
  assertEquals(old.fallCap, 0);
});

Deno.test("fall measure: a cut near the level before the fall ends it", () => {
  const s = { cutCap: 180000, fallCap: 84000, fallFrom: 197000 };
  updateFall(s, P);
  assertEquals(s.fallCap, 0);
});

Deno.test("fall measure: a cut within pass of the measure, or no fall open, changes nothing", () => {
  const within = { cutCap: 90000, fallCap: 84000, fallFrom: 197000 };
  updateFall(within, P);
  assertEquals(within.fallCap, 84000);
  const none = { cutCap: 90000, fallCap: 0, fallFrom: 197000 };
  updateFall(none, P);
  assertEquals(none.fallCap, 0);
});
