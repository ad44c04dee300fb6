/**
 * Reflectors whose high samples the others do not confirm stop voting (v61a; docs/controllers.md,
 * "v61: faulty reflectors"). A queue on our link raises every reflector's delay; a jittery
 * reflector, one whose replies are often late or one whose route changed raises only its own. The
 * 2-vote rule lets one such reflector vote without cutting, but two coincide often (a heavy-jitter
 * reflector is above the trigger about half the time) and each such one lowers the rule to 1 vote.
 */
import type { SampleView } from "./sample_view.ts";

/** Constants of the trust rule: times, and shares of a reflector's samples. */
export const TRUST_DEFAULTS = {
  /** A high sample is confirmed by other reflectors' high samples received within this, s. */
  confirmS: 1,
  /** Weight of one sample in a reflector's share of lone high samples (~40 samples, 20 s). */
  weight: 1 / 40,
  /** A reflector is ignored while its share of lone high samples exceeds this… */
  lone: 0.1,
  /** …and this many times the median share of the fresh reflectors. */
  relative: 3,
  /**
   * A reflector is judged only once this many of its samples were (about the share's window):
   * in the first seconds a few lone samples in a row would otherwise put a sound reflector over
   * `lone` while every other share is still 0.
   */
  minJudged: 40,
  /** A reflector without a sample for this long is forgotten (reselections replace peers), s. */
  forgetS: 60,
} as const;

/** One reflector's record. */
interface Record {
  /** Receive time of its last sample seen, s. */
  lastAt: number;
  /** Share of its samples that were high and not confirmed (EWMA over samples). */
  share: number;
  /** How many of its samples were judged (counted up to `minJudged`). */
  judged: number;
  /** Its high samples not yet judged (receive times, s). */
  pending: number[];
}

/**
 * Follows each reflector's high samples (above the trigger) and whether half of the other fresh
 * reflectors had one within `confirmS`; removes from a `SampleView` the reflectors whose share of
 * lone high samples is high, at most fewer than half of the fresh ones.
 */
export class ReflectorTrust {
  readonly #p: typeof TRUST_DEFAULTS;
  readonly #by = new Map<string, Record>();
  /** Recent high samples of every reflector: who and when (receive time, s). */
  #highs: { ip: string; at: number }[] = [];
  /** Fresh reflectors at the last decision. */
  #fresh = 1;

  /** `p` defaults to `TRUST_DEFAULTS`. */
  constructor(p: typeof TRUST_DEFAULTS = TRUST_DEFAULTS) {
    this.#p = p;
  }

  /** A reflector's share of lone high samples (0 when unknown; tests, docs). */
  share(ip: string): number {
    return this.#by.get(ip)?.share ?? 0;
  }

  /** How many reflectors are followed (tests: forgotten ones are not). */
  get followed(): number {
    return this.#by.size;
  }

  /**
   * Takes in the view's new samples (`high[i]`: sample i is above the trigger), judges those old
   * enough, and removes the reflectors not trusted from `view` in place.
   */
  filter(view: SampleView, o: { now: number; high: readonly boolean[] }): void {
    const p = this.#p;
    this.#fresh = view.ip.length;
    for (let i = 0; i < view.ip.length; i++) {
      const ip = view.ip[i];
      let r = this.#by.get(ip);
      if (r === undefined) {
        r = { lastAt: -Infinity, share: 0, judged: 0, pending: [] };
        this.#by.set(ip, r);
      }
      if (view.at[i] === r.lastAt) continue;
      r.lastAt = view.at[i];
      if (o.high[i]) {
        r.pending.push(view.at[i]);
        this.#highs.push({ ip, at: view.at[i] });
      } else this.#judge(r, false);
    }
    const judgeBefore = o.now - p.confirmS;
    for (const [ip, r] of this.#by) {
      while (r.pending.length > 0 && r.pending[0] <= judgeBefore) {
        this.#judge(r, !this.#confirmed(ip, r.pending.shift()!));
      }
      if (r.pending.length === 0 && r.lastAt < o.now - p.forgetS) this.#by.delete(ip);
    }
    let k = 0;
    while (k < this.#highs.length && this.#highs[k].at < judgeBefore - p.confirmS) k++;
    if (k > 0) this.#highs.splice(0, k);
    this.#drop(view);
  }

  /** One more judged sample of `r`: lone (high, unconfirmed) or not. */
  #judge(r: Record, lone: boolean): void {
    r.share += this.#p.weight * ((lone ? 1 : 0) - r.share);
    if (r.judged < this.#p.minJudged) r.judged++;
  }

  /** Half of the other fresh reflectors (at least one) had a high sample within `confirmS`. */
  #confirmed(ip: string, at: number): boolean {
    const need = Math.max(1, Math.ceil((this.#fresh - 1) / 2));
    const seen = new Set<string>();
    for (const h of this.#highs) {
      if (h.ip !== ip && Math.abs(h.at - at) <= this.#p.confirmS) seen.add(h.ip);
    }
    return seen.size >= need;
  }

  /** A reflector's share when it may be judged (enough samples), else 0. */
  #judgedShare(ip: string): number {
    const r = this.#by.get(ip);
    return r !== undefined && r.judged >= this.#p.minJudged ? r.share : 0;
  }

  #drop(view: SampleView): void {
    const n = view.ip.length;
    if (n < 3) return;
    // Nearly always nobody is over `lone`: decide that without building arrays.
    let any = false;
    for (let i = 0; i < n && !any; i++) any = this.#judgedShare(view.ip[i]) > this.#p.lone;
    if (!any) return;
    const shares = view.ip.map((ip) => this.#judgedShare(ip));
    const sorted = [...shares].sort((a, b) => a - b);
    const med = sorted[Math.floor(n / 2)];
    const limit = Math.max(this.#p.lone, this.#p.relative * med);
    // Fewer than half may go: the rest must still be able to outvote them.
    const maxOut = Math.floor((n - 1) / 2);
    const out = shares.map((s, i) => ({ s, i })).filter((x) => x.s > limit)
      .sort((a, b) => b.s - a.s).slice(0, maxOut).map((x) => x.i);
    if (out.length === 0) return;
    const gone = new Set(out);
    const keep = (_: unknown, i: number) => !gone.has(i);
    view.dl = view.dl.filter(keep);
    view.ul = view.ul.filter(keep);
    view.at = view.at.filter(keep);
    view.ip = view.ip.filter(keep);
  }
}
