import { assertEquals } from "../src/util/assert.ts";
import { parseGcLine, summariseGc } from "./_gc_trace.ts";

const SCAVENGE = "[3637:0x55a1c26f4000]     3569 ms: Scavenge 6.2 (7.9) -> 5.9 (8.4) MB, pooled: " +
  "0.0 MB, 2.26 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure; ";
const MARK_COMPACT = "[3637:0x55a1c26f4000]  912345 ms: Mark-Compact 15.6 (17.1) -> 6.8 (9.0) " +
  "MB, pooled: 0.0 MB, 8.10 / 0.00 ms (average mu = 0.999, current mu = 0.998) allocation " +
  "failure; scavenge might not succeed";
const REDUCE =
  "[7973:0x55897386c000]   999999 ms: Incremental Mark-Compact (reduce) 9.1 (11.0) -> " +
  "6.7 (8.0) MB, pooled: 0.0 MB, 2.76 / 0.00 ms (+ 4.0 ms in 42 steps since start of marking, " +
  "biggest step 0.8 ms, walltime since start of marking 1190 ms) (average mu = 0.998)";

Deno.test("gc trace: a scavenge and full collections are read, other lines are not", () => {
  assertEquals(parseGcLine(SCAVENGE), { ms: 3569, kind: "Scavenge", beforeMb: 6.2, afterMb: 5.9 });
  assertEquals(parseGcLine(MARK_COMPACT)?.kind, "Mark-Compact");
  assertEquals(parseGcLine(REDUCE), {
    ms: 999999,
    kind: "Incremental Mark-Compact (reduce)",
    beforeMb: 9.1,
    afterMb: 6.7,
  });
  assertEquals(parseGcLine("2026-12-07T09:00:00Z INFO control started"), undefined);
});

Deno.test("gc trace: the summary counts each kind and the daemon's own lines", () => {
  const text = ["INFO control started", SCAVENGE, MARK_COMPACT, SCAVENGE, REDUCE, "WARN x", ""]
    .join("\n");
  assertEquals(summariseGc(text), {
    scavenges: 2,
    markCompacts: 2,
    largestBeforeMarkCompactMb: 15.6,
    lastAfterMb: 6.7,
    ownLines: 2,
  });
  assertEquals(summariseGc("").lastAfterMb, NaN);
});
