/**
 * When a simulated counter read samples the bytes: the daemon takes its tick's time, then asks
 * its `ip` coprocess for the counters (src/counters/ip_link.ts), which samples them a moment later
 * (the coprocess's wake-up on a busy machine). The load divides the bytes between two samples by
 * the time between two ticks, so each decision's load is off by the difference of two such delays
 * over the decision's length: scatter around the delivery, anti-correlated from one decision to
 * the next (a late sample lifts one decision and lowers the next). The e2e testbed's figures
 * (docs/controllers.md, "v81"): a delay of mean 0.9 ms, and in 15 % of the reads 5 ms more.
 */

/** The delay of each counter read after its tick: exponential, plus a rarer longer one. */
export interface CounterRead {
  /**
   * A fixed part of every read's delay, ms (default 0): a management link's one-way delay, as a
   * `remote` reader's ssh round trip has it (docs/controllers.md, "v87").
   */
  fixedMs?: number;
  /** Mean of every read's delay beyond `fixedMs`, ms (exponential). */
  meanMs: number;
  /** Share of reads with an extra delay (0–1). */
  tailShare: number;
  /** Mean of that extra delay, ms (exponential). */
  tailMeanMs: number;
  /**
   * Whether the delay lies inside the read, so that the control loop's clock sees the read's end
   * (a second delay drawn alike later) and its midpoint timing corrects most of it; absent or
   * false: in the counters' own advance, which no clock sees, as on the e2e testbed, whose reads
   * are far shorter than its scatter (docs/controllers.md, "v84").
   */
  seen?: boolean;
  /**
   * Slow spells of the management link (read_bursts.ts; absent: every leg drawn alike): a Wi-Fi
   * or LTE link's delay comes in bursts of slow reads rather than independent draws
   * (docs/simulator.md, "Byte counters").
   */
  bursts?: ReadBursts;
}

/**
 * A two-state (fast/slow) chain stepped once a leg: `slowShare` of the legs are slow, in runs of
 * `runLegs` legs on average, and a slow leg's exponential part (`meanMs`) has `factor` times a
 * fast one's mean; `meanMs` stays the mean over all legs.
 */
export interface ReadBursts {
  /** Share of legs in the slow state (0–1, exclusive). */
  slowShare: number;
  /** Mean length of a slow run, legs (≥ 1). */
  runLegs: number;
  /** A slow leg's exponential mean over a fast one's (> 0). */
  factor: number;
}

/** The e2e testbed's counter reads at 20 and 200 Mbit/s (docs/controllers.md, "v81"). */
export const TESTBED_COUNTER_READ: Readonly<CounterRead> = {
  meanMs: 0.9,
  tailShare: 0.15,
  tailMeanMs: 5,
};

/** One read's delay, s, drawn from `random` (two or three draws). */
export function counterReadDelayS(random: () => number, read: CounterRead): number {
  const exp = (meanMs: number) => -meanMs * Math.log(1 - random());
  let ms = (read.fixedMs ?? 0) + exp(read.meanMs);
  if (random() < read.tailShare) ms += exp(read.tailMeanMs);
  return ms / 1000;
}

/**
 * Parses `testbed` or `[FIXED+]MEAN[:SHARE:TAILMEAN][@SLOW/RUN/FACTOR][:read]` (ms, ms, 0–1, ms;
 * `@…`: `bursts`; `:read`: `seen`; `--counter-scatter`). Throws on anything else.
 */
export function parseCounterRead(text: string): CounterRead {
  if (text === "testbed") return { ...TESTBED_COUNTER_READ };
  const seen = text.endsWith(":read");
  const [body, burstText, ...more] = (seen ? text.slice(0, -":read".length) : text).split("@");
  const bursts = burstText === undefined ? undefined : parseReadBursts(burstText);
  const fields = body.split(":");
  const sum = fields[0].split("+");
  const num = (t: string) => t.trim() === "" ? NaN : Number(t);
  const plus = sum.length === 2;
  const fixedMs = plus ? num(sum[0]) : 0;
  const parts = [sum.length <= 2 ? num(sum.at(-1)!) : NaN, ...fields.slice(1).map(num)];
  const [meanMs, tailShare = 0, tailMeanMs = 0] = parts;
  const ok = more.length === 0 && bursts !== null &&
    (parts.length === 1 || parts.length === 3) && meanMs >= 0 && fixedMs >= 0 &&
    tailShare >= 0 && tailShare <= 1 && tailMeanMs >= 0 &&
    [...parts, fixedMs].every(Number.isFinite);
  if (!ok) {
    throw new Error(
      `counter scatter: expected "testbed" or [FIXED+]MEAN[:SHARE:TAILMEAN][@SLOW/RUN/FACTOR], got "${text}"`,
    );
  }
  const read: CounterRead = plus
    ? { fixedMs, meanMs, tailShare, tailMeanMs }
    : { meanMs, tailShare, tailMeanMs };
  if (bursts !== undefined && bursts !== null) read.bursts = bursts;
  return seen ? { ...read, seen } : read;
}

/** `SLOW/RUN/FACTOR` as `ReadBursts`, or null when it is not one. */
function parseReadBursts(text: string): ReadBursts | null {
  const fields = text.split("/").map((t) => t.trim() === "" ? NaN : Number(t));
  if (fields.length !== 3) return null;
  const [slowShare, runLegs, factor] = fields;
  // The chain's chance of entering a slow run a fast leg is slowShare / (runLegs (1 − slowShare)).
  const ok = slowShare > 0 && slowShare < 1 && runLegs >= 1 && factor > 0 &&
    slowShare <= runLegs * (1 - slowShare);
  return ok ? { slowShare, runLegs, factor } : null;
}

/** `[FIXED+]MEAN:SHARE:TAILMEAN[@SLOW/RUN/FACTOR][:read]` as `parseCounterRead` takes it back. */
export function formatCounterRead(read: CounterRead): string {
  const fixed = read.fixedMs !== undefined && read.fixedMs > 0 ? `${read.fixedMs}+` : "";
  const b = read.bursts;
  const bursts = b === undefined ? "" : `@${b.slowShare}/${b.runLegs}/${b.factor}`;
  return `${fixed}${read.meanMs}:${read.tailShare}:${read.tailMeanMs}${bursts}${
    read.seen === true ? ":read" : ""
  }`;
}
