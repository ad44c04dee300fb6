import { assertEquals } from "../util/assert.ts";
import { recordingLogger } from "../log/recording_testing.ts";
import { BRIEF_OUTAGE_S, OutageLog } from "./outage_log.ts";

/** The lines at INFO and above (what an owner at the shipped WARN level, or at INFO, reads). */
function shown(lines: readonly string[]): string[] {
  return lines.filter((l) => !l.startsWith("DEBUG"));
}

Deno.test("OutageLog: one reflector short for one tick under load is DEBUG only", () => {
  const { logger, lines } = recordingLogger();
  const outage = new OutageLog(logger);
  outage.tooFew(100, 4);
  outage.enough(100.1, 5);
  assertEquals(shown(lines), []);
  assertEquals(lines.length, 2);
  assertEquals(outage.active, false);
});

Deno.test("OutageLog: too few for BRIEF_OUTAGE_S is one WARN, and one INFO when it ends", () => {
  const { logger, lines } = recordingLogger();
  const outage = new OutageLog(logger);
  for (let i = 0; i < 16; i++) outage.tooFew(100 + i / 10, 4); // until 1.5 s
  outage.enough(102, 5);
  assertEquals(shown(lines), [
    "WARN only 4 fresh reflectors (need 5): requesting reselection; rates go to the minimum " +
    "while none is fresh (logged again when it ends)",
    "INFO 5 fresh reflectors again after 2 s with too few (16 ticks, fewest 4)",
  ]);
});

Deno.test("OutageLog: none fresh is a WARN at once (the rates go to the minimum)", () => {
  const { logger, lines } = recordingLogger();
  const outage = new OutageLog(logger);
  outage.tooFew(100, 4, { late: 1 });
  outage.tooFew(100.1, 0);
  outage.tooFew(100.2, 0);
  outage.enough(100.3, 5);
  assertEquals(shown(lines), [
    "WARN only 0 fresh reflectors (need 5): requesting reselection; rates go to the minimum " +
    "while none is fresh (logged again when it ends)",
    "INFO 5 fresh reflectors again after 0.3 s with too few (3 ticks, fewest 0)",
  ]);
});

Deno.test("OutageLog: a brief dip does not keep a later outage from its WARN", () => {
  const { logger, lines } = recordingLogger();
  const outage = new OutageLog(logger);
  outage.tooFew(100, 4);
  outage.enough(100.1, 5);
  outage.tooFew(200, 3);
  outage.tooFew(200 + BRIEF_OUTAGE_S, 3);
  assertEquals(shown(lines).length, 1);
  assertEquals(shown(lines)[0].startsWith("WARN only 3 fresh reflectors"), true);
});
