/**
 * Notices another program changing the rate this daemon sets (docs/operation.md, "Another program
 * changes the rate"): a second sqm-autorate shaping the same router from another machine (or the
 * same router named two ways), SQM scripts, someone running `tc` by hand. Both keep setting their
 * own rate, so it flips every few seconds; nothing fails, so nothing else would say so.
 *
 * The look costs nothing of its own: the loop sets an unchanged rate again every
 * `SHAPER_REFRESH_S` (docs/operation.md, "An interface or its qdisc changed under the daemon"),
 * and only then, before that set, the rate in force is asked through the `tc -batch` session the
 * last change went through (`Shaper.rateInForce`: no process, no connection, no timer). A rate
 * that differs from the one last set, with no change of ours in flight (the loop awaits each), is
 * someone else's. The daemon goes on setting its rate as before.
 */
import type { Logger } from "../log/logger.ts";
import type { Shaper, ShaperPair } from "../control/ports.ts";
import { mapShaperPair, shaperWith } from "../control/shaper_wrap.ts";
import { hardClampRate } from "../control/rate_bounds.ts";
import { type Clock, systemClock } from "../util/clock.ts";

/**
 * Rates closer than this share of the rate set are the same: tc reports rates rounded (HTB's
 * text to three digits, TBF and CAKE to a byte per second).
 */
export const FOREIGN_RATE_TOLERANCE = 0.01;

/** Options of {@linkcode watchForeignRates}. */
export interface ForeignRateOptions {
  /** Where an episode is logged (WARN at its start, DEBUG while it lasts, INFO at its end). */
  logger: Logger;
  /** Clock of the episode's length (default: the system clock). */
  clock?: Clock;
}

/** True when `found` is `set` as tc reports it (see {@linkcode FOREIGN_RATE_TOLERANCE}). */
export function sameRate(found: number, set: number): boolean {
  return Math.abs(found - set) <= Math.max(1, set * FOREIGN_RATE_TOLERANCE);
}

/**
 * `shapers` whose `setRate` of the rate last set (the refresh) first compares it with the rate in
 * force and logs a difference once per episode. Shapers without `rateInForce` (the simulator,
 * fakes) pass through unchanged.
 */
export function watchForeignRates(shapers: ShaperPair, options: ForeignRateOptions): ShaperPair {
  const clock = options.clock ?? systemClock;
  return mapShaperPair(
    shapers,
    (s) => s.rateInForce === undefined ? s : watchOne(s, { logger: options.logger, clock }),
  );
}

/** One shaper's watch: the rate it last set and the episode in progress. */
function watchOne(s: Shaper, o: { logger: Logger; clock: Clock }): Shaper {
  const rateInForce = s.rateInForce!.bind(s);
  /** The rate the last change made (undefined after a failed one: the rate in force is unknown). */
  let lastSet: number | undefined;
  let episode: { sinceS: number; times: number } | undefined;

  const look = async (kbit: number): Promise<void> => {
    const found = await rateInForce().catch(() => undefined);
    if (found === undefined) return;
    const set = hardClampRate(kbit);
    const values = { ifname: s.ifname, found: Math.round(found), set };
    if (sameRate(found, set)) {
      if (episode === undefined) return;
      o.logger.info(
        "the rate on {ifname} is the one this daemon set again ({set} kbit/s), after {s} s in " +
          "which another program changed it (found at {times} refreshes)",
        { ...values, s: Math.round(o.clock.monotonicS() - episode.sinceS), times: episode.times },
      );
      episode = undefined;
      return;
    }
    if (episode !== undefined) {
      episode.times++;
      o.logger.debug("the rate on {ifname} is {found} kbit/s again, not {set}", values);
      return;
    }
    episode = { sinceS: o.clock.monotonicS(), times: 1 };
    o.logger.warn(
      "the rate on {ifname} is {found} kbit/s, not the {set} kbit/s this daemon set: another " +
        "program changes it (a second sqm-autorate on another machine or for the same router " +
        "under another name, SQM scripts, tc by hand); setting ours again (logged again when it " +
        "ends)",
      values,
    );
  };

  return shaperWith(s, {
    setRate: async (kbit) => {
      if (lastSet === kbit) await look(kbit);
      try {
        await s.setRate(kbit);
        lastSet = kbit;
      } catch (e) {
        lastSet = undefined;
        throw e;
      }
    },
  });
}
