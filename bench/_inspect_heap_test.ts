import { assertEquals } from "../src/util/assert.ts";
import { sumFamilies } from "./_inspect_heap.ts";

Deno.test("sumFamilies: sums a family over its labels, skips comments and other families", () => {
  const text = [
    "# HELP sqm_pinger_starts_total Pinger starts.",
    "# TYPE sqm_pinger_starts_total counter",
    "sqm_pinger_starts_total 7",
    'sqm_controller_decisions_total{direction="dl"} 1130',
    'sqm_controller_decisions_total{direction="ul"} 1129',
    "sqm_controller_decisions_total_other 5",
    'sqm_reflector_replies_total{reflector="10.0.0.1"} 99',
    "",
  ].join("\n");
  assertEquals(
    sumFamilies(text, ["sqm_pinger_starts_total", "sqm_controller_decisions_total"]),
    { sqm_pinger_starts_total: 7, sqm_controller_decisions_total: 2259 },
  );
});
