import { assertEquals } from "../util/assert.ts";
import { followVerdict } from "./follow_confirm.ts";

const P = { confirmS: 0.25 };

Deno.test("follow confirm: one decision under the limit holds, a second within confirmS stops (v74b)", () => {
  const s = { stopLowS: NaN };
  assertEquals(followVerdict(s, 10, { low: true, p: P }), "hold");
  assertEquals(followVerdict(s, 10.1, { low: true, p: P }), "stop");
  // Off: the first one stops, as before v74b.
  assertEquals(followVerdict({ stopLowS: NaN }, 10, { low: true, p: { confirmS: 0 } }), "stop");
});

Deno.test("follow confirm: a low reading followed by a full one is scatter: no stop", () => {
  const s = { stopLowS: NaN };
  assertEquals(followVerdict(s, 10, { low: true, p: P }), "hold");
  assertEquals(followVerdict(s, 10.1, { low: false, p: P }), "none");
  assertEquals(followVerdict(s, 10.2, { low: true, p: P }), "hold");
});

Deno.test("follow confirm: a held decision confirms only within confirmS", () => {
  const s = { stopLowS: NaN };
  assertEquals(followVerdict(s, 10, { low: true, p: P }), "hold");
  assertEquals(followVerdict(s, 10.5, { low: true, p: P }), "hold");
  assertEquals(followVerdict(s, 10.6, { low: true, p: P }), "stop");
});
