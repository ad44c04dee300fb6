import { assertEquals } from "../util/assert.ts";
import { holdAvoidedDraws } from "./avoided_draws.ts";

Deno.test("holdAvoidedDraws: avoided new draws held back, current peers stay (v72a)", () => {
  const avoided = new Set(["p2", "d2"]);
  const split = holdAvoidedDraws(["p1", "p2", "d1", "d2", "d3"], {
    peers: ["p1", "p2"],
    avoid: (ip) => avoided.has(ip),
  });
  assertEquals(split, { probe: ["p1", "p2", "d1", "d3"], held: ["d2"] });
  const none = holdAvoidedDraws(["p1", "d1"], { peers: ["p1"], avoid: () => false });
  assertEquals(none, { probe: ["p1", "d1"], held: [] });
});
