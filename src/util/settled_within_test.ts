import { assertEquals } from "./assert.ts";
import { settledWithin } from "./settled_within.ts";

Deno.test("settledWithin: a promise that resolves or rejects in time is true, one that does not is false", async () => {
  assertEquals(await settledWithin(Promise.resolve(1), 1000), true);
  assertEquals(await settledWithin(Promise.reject(new Error("x")), 1000), true);
  assertEquals(await settledWithin(new Promise(() => {}), 0), false);
});
