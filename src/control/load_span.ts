/**
 * Which reading a load is measured from. A load divides the bytes between two readings by the
 * time between their moments, each the middle of its read (docs/controllers.md, "v84"); over a
 * jittery management link each moment is off by up to half of what its read took beyond the
 * shortest (`ReadSpan`), so a load over one 0.1 s decision can be several per cent wrong, and the
 * capacity controller's direction attribution blames the wrong direction on it (docs/remote.md,
 * "Why jitter costs the upload at 50 ms"). So a load runs from the newest certain reading far
 * enough back for the moments' uncertainty to be a small share of its span, unless the load over
 * the last decision alone differs from it by more than that uncertainty can explain: then the
 * load itself changed (a load start, a capacity drop) and the last decision's is taken
 * (docs/controllers.md, "v96"). The uncertainty is that of the reading the load ends at, so a slow
 * spell of the link lengthens the loads ending in it at once ("v105"). Reads that take no time
 * (the simulator's exact reads) always measure from the last reading, as before, and short local
 * ones almost always.
 */
import type { CounterReading } from "./ports.ts";

/** The largest uncertainty of a load's two moments, as a share of its span (v96). */
export const LOAD_UNCERTAIN_SHARE = 0.025;
/** A last-decision load this many uncertainties off the longer one is a change (v96). */
export const LOAD_CHANGE_FACTOR = 3;
/** Most readings kept as references. */
export const MAX_LOAD_REFERENCES = 32;

/** A certain counter reading and the moment it stands for (its read's middle), s. */
export interface LoadReference {
  counters: CounterReading;
  readS: number;
}

/** The certain readings decided on since the last reset, oldest first. */
export class LoadReferences {
  #refs: LoadReference[] = [];

  /** The newest reference (the last certain reading), if any. */
  get last(): LoadReference | undefined {
    return this.#refs[this.#refs.length - 1];
  }

  /** Makes `ref` the only reference (none when absent): a hold's next load covers the gap. */
  reset(ref?: LoadReference): void {
    this.#refs = ref === undefined ? [] : [ref];
  }

  /** Adds a certain reading decided on. */
  add(ref: LoadReference): void {
    this.#refs.push(ref);
    if (this.#refs.length > MAX_LOAD_REFERENCES) this.#refs.shift();
  }

  /**
   * The reference of a load read at `readS` whose moments are `uncertaintyS` uncertain each: the
   * newest at least `uncertaintyS / LOAD_UNCERTAIN_SHARE` before it, else the oldest kept. With
   * no uncertainty, `last`. Call only with a reference kept.
   */
  pick(readS: number, uncertaintyS: number): LoadReference {
    const refs = this.#refs;
    let i = refs.length - 1;
    if (uncertaintyS > 0) {
      const needS = uncertaintyS / LOAD_UNCERTAIN_SHARE;
      while (i > 0 && readS - refs[i].readS < needS) i--;
    }
    return refs[i];
  }
}

/**
 * Whether a load over the last decision, `shortKbit` over `shortS`, differs from the longer
 * one, `longKbit`, by more than `LOAD_CHANGE_FACTOR` times the share its moments' uncertainty
 * (`uncertaintyS` each) can make it wrong by: the load changed.
 */
export function loadChanged(
  shortKbit: number,
  longKbit: number,
  x: { shortS: number; uncertaintyS: number },
): boolean {
  const tolerance = LOAD_CHANGE_FACTOR * x.uncertaintyS / x.shortS;
  return Math.abs(shortKbit - longKbit) > tolerance * Math.max(shortKbit, longKbit);
}
