import { assert, assertEquals } from "../util/assert.ts";
import { FailureLog, REPEAT_SUMMARY_PERIOD_S } from "./failure_log.ts";
import { recordingLogger } from "./testing.ts";

/** The traceback of a runaway recursion stopped by the time limit at `depth` levels. */
const deepTimeout = (depth: number) =>
  "sqm-autorate: Lua time limit exceeded (50 ms)\nstack traceback:\n" +
  "\t/etc/sqm-autorate/r.lua:2: in upvalue 'f'\n".repeat(10) +
  `\t...\t(skipping ${depth} levels)\n` +
  "\t/etc/sqm-autorate/r.lua:2: in upvalue 'f'\n".repeat(10) +
  "\t/etc/sqm-autorate/r.lua:3: in field 'process'\n\tbridge:73: in function <bridge:68>";

Deno.test("failure log: a recursion stopped at another depth every call is one error, its repeats counted", () => {
  const { logger, lines } = recordingLogger();
  let now = 0;
  const log = new FailureLog({ logger, nowS: () => now });
  for (const depth of [31864, 29198, 23295, 11629, 19864]) {
    log.failure("plugin r: process() failed (timeout)", deepTimeout(depth));
    now += 0.5;
  }
  // Until the thirtieth session each depth was a distinct error: five tracebacks.
  assertEquals(lines.length, 1, lines.map((l) => l.text).join("\n"));
  assert(lines[0].text.includes("(skipping 31864 levels)"), lines[0].text);
  now = REPEAT_SUMMARY_PERIOD_S + 1;
  log.success("plugin r: process()");
  assertEquals(lines.length, 2);
  assert(lines[1].text.includes("failed 4 more times"), lines[1].text);
  // Another fault is still logged in full.
  log.failure("plugin r: process() failed (error)", "r.lua:3: attempt to index a nil value");
  assertEquals(lines.length, 3);
});
