import { assertEquals } from "../src/util/assert.ts";
import { roundOrder } from "./_rounds.ts";

Deno.test("roundOrder keeps the order without alternate", () => {
  assertEquals(roundOrder(["a", "b", "c"], { round: 2, alternate: false }), ["a", "b", "c"]);
});

Deno.test("roundOrder reverses every even round with alternate", () => {
  const order = [1, 2, 3, 4].map((round) => roundOrder(["a", "b"], { round, alternate: true }));
  assertEquals(order, [["a", "b"], ["b", "a"], ["a", "b"], ["b", "a"]]);
});
