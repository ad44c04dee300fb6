/**
 * Which reflectors the selector should avoid (v65; docs/controllers.md, "v65: a majority of
 * faulty reflectors"). A queue on our link raises every reflector's delay at once; a jittery
 * reflector, or one whose route stepped up, sits above the others on its own. So each sample's
 * RTT delta (last sample − baseline) is compared with the lowest delta among the other current
 * peers' samples of the last tick: a reflector whose samples are often well above the lowest
 * peer's is avoided at the next reselection. The lowest, not the median: three or four jittery
 * peers of five would set a median (and confirm each other's high samples, which the controller's
 * trust rule, v61a, cannot tell from a queue); one sound peer is enough to set a minimum.
 */
import type { OwdState, ReselectRequester } from "../control/ports.ts";
import { rttDeltaMs } from "../control/deltas.ts";

/** Constants of the rule (times in s, delays in ms, shares of a reflector's samples). */
export const SPREAD_DEFAULTS = {
  /** A sample whose RTT delta lies more than this above the lowest peer's is spread, ms. */
  aboveMs: 4,
  /**
   * Samples are judged only while the lowest other peer's delta is at most this (no queue on our
   * link: a queue that grows or drains between two peers' samples would set them apart), ms.
   */
  quietMs: 2,
  /** Weight of one sample in a reflector's share of spread samples (~20 samples, 10 s). */
  weight: 1 / 20,
  /** A reflector whose share of spread samples exceeds this is avoided. */
  avoid: 0.5,
  /** A reflector is judged once this many of its samples were. */
  minJudged: 20,
  /**
   * A reflector's delta is compared only from this many samples after its baseline (re)started
   * (its baseline is its first sample until then), samples.
   */
  settle: 10,
  /** A gap without samples after which the baseliner restarts a reflector's baseline, s. */
  staleGapS: 30,
  /** A reflector not judged for this long is forgotten (and may be drawn again), s. */
  forgetS: 600,
} as const;

/** How often the records are swept for forgotten ones, s. */
const SWEEP_S = 10;

/** One reflector's record. */
interface SpreadRecord {
  /** Receive time of its last sample seen, s. */
  lastAt: number;
  /** Its RTT delta at that sample, ms. */
  delta: number;
  /** Samples since its baseline (re)started (counted up to `settle`). */
  run: number;
  /** Share of its judged samples that were spread (EWMA over samples). */
  share: number;
  /** How many of its samples were judged (counted up to `minJudged`). */
  judged: number;
  /** When it was last judged, s. */
  judgedAt: number;
}

/** Follows every reflector's share of samples well above the lowest current peer's. */
export class ReflectorSpread {
  readonly #p: typeof SPREAD_DEFAULTS;
  readonly #owd: OwdState;
  readonly #tickS: number;
  readonly #by = new Map<string, SpreadRecord>();
  /** When the records were last swept for forgotten ones, s. */
  #sweptAt = -Infinity;
  readonly #reselect?: ReselectRequester;

  /** Reads `owd` (after the baseliner took each sample); `tickS` is the ping period, s. */
  constructor(
    owd: OwdState,
    o: { tickS: number; p?: typeof SPREAD_DEFAULTS; reselect?: ReselectRequester },
  ) {
    this.#owd = owd;
    this.#tickS = o.tickS;
    this.#p = o.p ?? SPREAD_DEFAULTS;
    this.#reselect = o.reselect;
  }

  /** A reflector's share of spread samples (0 when unknown). */
  share(ip: string): number {
    return this.#by.get(ip)?.share ?? 0;
  }

  /** How many reflectors are followed (tests: forgotten ones are not). */
  get followed(): number {
    return this.#by.size;
  }

  /**
   * Whether the selector should leave `ip` out when it has enough others: its share is over the
   * limit while some current peer's is low (v65e; not when every reflector is spread).
   */
  avoided(ip: string): boolean {
    const r = this.#by.get(ip);
    const over = r !== undefined && r.judged >= this.#p.minJudged && r.share > this.#p.avoid;
    return over && this.#someSound();
  }

  /**
   * Whether `ip`'s first `judged` judged samples (or more) were mostly spread: a suspicion before
   * the judgement (`hurried_start.ts`, docs/controllers.md, "v79").
   */
  suspected(ip: string, judged: number): boolean {
    const r = this.#by.get(ip);
    return r !== undefined && r.judged >= judged && r.share > this.#p.avoid;
  }

  /**
   * Whether a reselection's draw should take `ip` first (v72c, `sound_first.ts`): it was judged
   * sound (its share under half the `avoid` limit) while some reflector followed is judged over
   * the limit, i.e. the pool is known to hold bad ones.
   */
  preferred(ip: string): boolean {
    const r = this.#by.get(ip);
    if (r === undefined || r.judged < this.#p.minJudged || r.share >= this.#p.avoid / 2) {
      return false;
    }
    for (const o of this.#by.values()) {
      if (o.judged >= this.#p.minJudged && o.share > this.#p.avoid) return true;
    }
    return false;
  }

  /** Takes in `ip`'s sample received at `at` (s), once the baseliner has. */
  observe(ip: string, at: number): void {
    const p = this.#p;
    const base = this.#owd.baseline.get(ip);
    const last = (this.#owd.latest ?? this.#owd.recent).get(ip);
    if (base === undefined || last === undefined || last.last_receive_time_s !== at) return;
    let r = this.#by.get(ip);
    if (r === undefined) {
      r = { lastAt: -Infinity, delta: 0, run: 0, share: 0, judged: 0, judgedAt: at };
      this.#by.set(ip, r);
    }
    if (at - r.lastAt > p.staleGapS) r.run = 0;
    r.lastAt = at;
    r.delta = rttDeltaMs(last, base);
    if (r.run < p.settle) r.run++;
    if (r.run >= p.settle) {
      const lowest = this.#lowestOther(ip, at);
      if (lowest !== undefined && lowest <= p.quietMs) {
        const was = this.avoided(ip);
        this.#judge(r, { spread: r.delta - lowest > p.aboveMs, at });
        if (!was && this.avoided(ip) && this.#owd.peers.includes(ip)) {
          this.#reselect?.requestReselect(`${ip} is often above the other reflectors`);
        }
      }
    }
    if (at - this.#sweptAt > SWEEP_S) {
      this.#sweptAt = at;
      for (const [other, o] of this.#by) if (at - o.judgedAt > p.forgetS) this.#by.delete(other);
    }
  }

  /**
   * Whether some judged current peer's share is under half the `avoid` limit: the spread is then
   * a few reflectors' own. A delay every probe meets at random on our link (a radio's
   * scheduling; at 0.4 Mbit/s a 1500-byte packet ahead of a probe holds it 30 ms) spreads every
   * reflector, and other peers would be no better: none is avoided then.
   */
  #someSound(): boolean {
    const peers = this.#owd.peers;
    for (let i = 0; i < peers.length; i++) {
      const r = this.#by.get(peers[i]);
      if (r !== undefined && r.judged >= this.#p.minJudged && r.share < this.#p.avoid / 2) {
        return true;
      }
    }
    return false;
  }

  /** The lowest delta of the other settled peers' samples within one tick of `at`. */
  #lowestOther(ip: string, at: number): number | undefined {
    let lowest: number | undefined;
    const peers = this.#owd.peers;
    for (let i = 0; i < peers.length; i++) {
      if (peers[i] === ip) continue;
      const o = this.#by.get(peers[i]);
      if (o === undefined || o.run < this.#p.settle || !(at - o.lastAt <= this.#tickS)) continue;
      if (lowest === undefined || o.delta < lowest) lowest = o.delta;
    }
    return lowest;
  }

  #judge(r: SpreadRecord, o: { spread: boolean; at: number }): void {
    // The mean of its judged samples until 1/weight were, then the EWMA (v70a): an EWMA from 0
    // would read a 0.6 share as 0.38 at the 20th sample. (`judged` stops at `minJudged`, so this
    // needs minJudged + 1 >= 1/weight, as the defaults have: 20 and 1/20.)
    const w = Math.max(this.#p.weight, 1 / (r.judged + 1));
    r.share += w * ((o.spread ? 1 : 0) - r.share);
    if (r.judged < this.#p.minJudged) r.judged++;
    r.judgedAt = o.at;
  }
}
