import { assertEquals } from "../util/assert.ts";
import { numberText, valueText } from "./value_text.ts";

Deno.test("value text: non-finite numbers and nil in a Lua author's words, never Infinity or NaN", () => {
  assertEquals(numberText(Infinity), "infinite (inf, math.huge)");
  assertEquals(numberText(-Infinity), "minus infinite (-inf, -math.huge)");
  assertEquals(numberText(NaN), "not a number (nan, as 0/0 gives)");
  assertEquals(numberText(2.5), "2.5");
  assertEquals(valueText(null), "nothing (nil)");
  assertEquals(valueText("<nil>"), "nothing (nil)");
  assertEquals(valueText("<function>"), "a function");
  assertEquals(valueText("x"), "a string");
  assertEquals(valueText(true), "a boolean");
  assertEquals(valueText({ type: "userdata" }), "a userdata");
  assertEquals(valueText(-Infinity), "minus infinite (-inf, -math.huge)");
});
