import fc from "fast-check";
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { VirtualClock } from "../util/clock.ts";
import { BUILTIN_TRACES, builtinTrace, LOAD_PROFILES, type SimHooks, simulate } from "./mod.ts";
import { daemonPipeline, VirtualTimers } from "./pipeline.ts";

/** Clock reads allowed at one virtual instant; one 10 ms step needs a few dozen. */
const READS_PER_INSTANT = 20_000;

/**
 * The engine's clock as the pipeline sees it, failing once it is read too often without moving:
 * the symptom of a timer that re-arms for "now" and spins (a hang becomes a failure).
 */
class WatchdogClock extends VirtualClock {
  readonly #inner: VirtualClock;
  #last = Number.NaN;
  #reads = 0;
  /** Earliest instant at which time stood still, if any. */
  stuckAt: number | undefined;

  constructor(inner: VirtualClock) {
    super();
    this.#inner = inner;
  }

  override monotonicS(): number {
    const now = this.#inner.monotonicS();
    if (now !== this.#last) {
      this.#last = now;
      this.#reads = 0;
    } else if (++this.#reads > READS_PER_INSTANT) {
      this.stuckAt ??= now;
      throw new Error(`simulated time stopped advancing at ${now} s`);
    }
    return now;
  }

  override wallMs(): number {
    return this.#inner.wallMs();
  }
}

async function runOnce(trace: string, load: string, durationS: number, seed: number) {
  let watchdog: WatchdogClock | undefined;
  const pipeline = (hooks: SimHooks) => {
    watchdog = new WatchdogClock(hooks.clock);
    return daemonPipeline({ ...hooks, clock: watchdog });
  };
  let lastFraction = 0;
  let monotonic = true;
  const [run] = await simulate({
    settings: settingsWithDefaults(),
    trace: builtinTrace(trace as (typeof BUILTIN_TRACES)[number], { durationS, seed }),
    load: load as (typeof LOAD_PROFILES)[number],
    durationS,
    seed,
    pipeline,
    onProgress: (_run, _runs, f) => {
      if (f < lastFraction) monotonic = false;
      lastFraction = f;
    },
  });
  return { run, stuckAt: watchdog?.stuckAt, monotonic, lastFraction };
}

Deno.test("any trace, load and seed up to 3600 s: the simulation finishes and time always advances", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...BUILTIN_TRACES),
      fc.constantFrom(...LOAD_PROFILES),
      fc.integer({ min: 1, max: 3600 }),
      fc.integer({ min: 0, max: 1000 }),
      async (trace, load, durationS, seed) => {
        const r = await runOnce(trace, load, durationS, seed);
        assertEquals(r.stuckAt, undefined);
        assert(r.monotonic, "progress went backwards");
        assertEquals(r.lastFraction, 1);
        assertEquals(r.run.durationS, durationS);
      },
    ),
    {
      numRuns: 8,
      // Runs that spun forever before timers and the selector shared one notion of "due".
      examples: [["lte", "bursty", 600, 7]],
    },
  );
});

Deno.test("a virtual timer re-armed with a tiny positive delay waits for the next instant", () => {
  let now = 268.83;
  const timers = new VirtualTimers({ monotonicS: () => now });
  let fired = 0;
  const rearm = () => {
    fired++;
    timers.setTimeout(rearm, 1e-8); // due by isDue's slack, yet armed at this very instant
  };
  timers.setTimeout(rearm, 0);
  timers.runDue(now);
  assertEquals(fired, 1);
  now = 268.84;
  timers.runDue(now);
  assertEquals(fired, 2);
});
