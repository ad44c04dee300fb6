import { assert, assertEquals } from "../util/assert.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { seededRandom } from "../util/clock.ts";
import { ReflectorSelector } from "./selector.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, resetLogging } from "../log/mod.ts";

const TICK = 0.5;

/**
 * Drives a selector in virtual time with a reselect request every tick (what the loop does).
 * All answer before `answerUntilS` and from `answerFromS` (default: never).
 */
function outage(options: { answerFromS?: number; answerUntilS?: number; untilS: number }) {
  const owd = createOwdState(["a", "b", "c"]);
  const cycles: number[] = [];
  const selector = new ReflectorSelector({
    owd,
    pool: ["a", "b", "c", "d", "e", "f"],
    numReflectors: 3,
    tickS: TICK,
    peerReselectionTimeMin: 15,
    random: seededRandom(3),
    onPeers: (_p, phase) => phase === "candidates" && cycles.push(now),
  });
  let now = 0;
  selector.start(now);
  for (; now <= options.untilS; now = Math.round((now + 0.05) * 100) / 100) {
    if (now < (options.answerUntilS ?? 0) || now >= (options.answerFromS ?? Infinity)) {
      for (const ip of ["a", "b", "c", "d", "e", "f"]) {
        owd.recent.set(ip, { up_ewma: 5, down_ewma: 5, last_receive_time_s: now });
      }
    }
    if (Math.abs(now / TICK - Math.round(now / TICK)) < 1e-9) selector.requestReselect("outage");
    selector.step(now);
    // After a step nothing is left due: a runner re-arming for "now" would spin.
    assert(selector.nextWakeS > now, `wake ${selector.nextWakeS} at ${now}`);
  }
  return { cycles, selector };
}

Deno.test("selector: while no reflector answers, reselection backs off (5, 10, 20 … s), not every 1.6 s", () => {
  const { cycles, selector } = outage({ untilS: 120 });
  // Cycle starts: settle (π/2 s), then each quiet cycle waits 5 · 2^(n-1) s after it ends.
  assertEquals(cycles.length, 5, cycles.join(" "));
  const gaps = cycles.slice(1).map((t, i) => Math.round(t - cycles[i]));
  assertEquals(gaps, [7, 12, 22, 42]);
  assertEquals(selector.quietCycles, 5);
});

Deno.test("selector: answers end the back-off at once", () => {
  const { cycles, selector } = outage({ answerFromS: 30, untilS: 60 });
  assertEquals(selector.quietCycles, 0);
  // Quiet cycles at about 1.6, 8.7 and 20.3 s; the one after 30 s finds data and requests are
  // then served as soon as they come (one cycle per settle period).
  assert(cycles.filter((t) => t > 30).length >= 8, cycles.join(" "));
});

Deno.test("selector: an outage after answers backs off too (the old peers still rank); one WARN, one INFO", () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    // Everyone answers for 10 s, then nothing until 150 s.
    const { cycles, selector } = outage({ answerUntilS: 10, answerFromS: 150, untilS: 200 });
    const quiet = cycles.filter((t) => t > 10 && t < 150);
    assertEquals(quiet.length, 5, cycles.join(" "));
    const gaps = quiet.slice(1).map((t, i) => Math.round(t - quiet[i]));
    assertEquals(gaps, [7, 12, 22, 42]);
    assertEquals(selector.quietCycles, 0);
    const messages = records.map((r) => `${r.level} ${r.rawMessage}`);
    const warned = messages.filter((m) => m.startsWith("warning No reflector answers"));
    assertEquals(warned.length, 1, messages.join("\n"));
    assertEquals(messages.filter((m) => m.startsWith("info Reflectors answer again")).length, 1);
    // A quiet cycle's set answered nothing: the WARN names the first, the rest are DEBUG. Until
    // the twenty-fifth session each was an INFO `Selected reflectors` (a real link down: six in
    // five minutes, about 16 an hour, naming reflectors none of which answered).
    const from = messages.findIndex((m) => m.startsWith("warning No reflector answers"));
    const to = messages.findIndex((m) => m.startsWith("info Reflectors answer again"));
    const inOutage = messages.slice(from, to).filter((m) => m.startsWith("info Selected"));
    assertEquals(inOutage, [], messages.join("\n"));
  } finally {
    resetLogging();
  }
});
