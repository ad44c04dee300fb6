/**
 * Faulty initial peers (docs/controllers.md, "v79"). The spread rule (`spread.ts`, v65) judges a
 * reflector after 10 settling and 20 judged samples, 15 s at two a second, and until the initial
 * peers are judged and replaced, jittery ones vote the controller into cuts. Probing the initial
 * peers faster from the start (v76d) brought the judgement sooner but changed every start. Here
 * the initial peers are probed faster only once at least `HURRY_SUSPECTS` of them look faulty on
 * their first `HURRY_JUDGED` judged samples (most of them spread), before the first reselection:
 * 20 probes a second in all (the limit), at most twice the tick's rate each, until the
 * first cycle publishes its set with its own period.
 */
import { MAX_PROBE_SPEEDUP, MAX_PROBES_PER_S } from "./short_pool.ts";

/** Judged samples a suspicion needs (the spread rule's judgement needs 20). */
export const HURRY_JUDGED = 6;
/**
 * Initial peers that must look faulty: with two, 8 of 100 clean saturate lte starts were hurried
 * (its radio's delays spread a few samples of any reflector); three of six is a majority's fault,
 * which the controller's trust in its peers cannot outvote (docs/controllers.md, "v65", "v79").
 */
export const HURRY_SUSPECTS = 3;
/** The probe period per reflector of a hurried start with `peers` peers, s. */
export function hurriedPeriodS(tickS: number, peers: number): number {
  return Math.max(peers / MAX_PROBES_PER_S, tickS / MAX_PROBE_SPEEDUP);
}

/** What `HurriedStart` reads and asks. */
export interface HurriedStartOptions {
  /** Tick, s. */
  tickS: number;
  /** The current peers. */
  peers: () => readonly string[];
  /** Whether a reflector's first `judged` judged samples were mostly spread (`ReflectorSpread`). */
  suspected: (ip: string, judged: number) => boolean;
  /** Probes the current peers every `periodS`; false once a cycle began (`ReflectorSelector`). */
  hurry: (periodS: number) => boolean;
}

/**
 * Watches the initial peers' first judgements: `observe` after each sample the spread rule took,
 * until the first reselection. Hurries the start at most once.
 */
export class HurriedStart {
  readonly #o: HurriedStartOptions;
  #done = false;

  /** See `HurriedStartOptions`. */
  constructor(options: HurriedStartOptions) {
    this.#o = options;
  }

  /** Checks the peers after a sample; returns whether it hurried the start just now. */
  observe(): boolean {
    if (this.#done) return false;
    const peers = this.#o.peers();
    let n = 0;
    for (let i = 0; i < peers.length; i++) {
      if (this.#o.suspected(peers[i], HURRY_JUDGED)) n++;
    }
    if (n < HURRY_SUSPECTS) return false;
    this.#done = true;
    return this.#o.hurry(hurriedPeriodS(this.#o.tickS, peers.length));
  }
}
