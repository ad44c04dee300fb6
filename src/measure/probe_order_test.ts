import { assertEquals } from "../util/assert.ts";
import { probeOrder } from "./probe_order.ts";

Deno.test("probeOrder: oldest reply first, targets never heard last in their order", () => {
  const last = new Map([["a", 10.4], ["b", 10.0], ["c", 10.2], ["gone", 9.0]]);
  assertEquals(probeOrder(["a", "x", "b", "y", "c"], last), ["b", "c", "a", "x", "y"]);
  assertEquals(probeOrder(["x", "y"], last), ["x", "y"]);
  assertEquals(probeOrder([], last), []);
});
