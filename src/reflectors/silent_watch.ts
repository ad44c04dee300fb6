/**
 * A short pool's silent candidates (docs/controllers.md, "v82"). A cycle in which fewer than
 * `num_reflectors` candidates answered keeps those and backs off (`short_pool.ts`, v76), so a
 * reflector that answers again was seen only at the next cycle, up to 300 s later, and every
 * cycle probed the kept peers at the tick's rate beside its candidates. Now, while the back-off
 * runs, the cycle's silent candidates are probed apart at a slow period (`SilentWatch`), and the
 * first that answers starts a cycle; a cycle begun while short probes its new draws apart
 * (`drawsApart` in `cycle_budget.ts`) and the kept peers at their own period. Both stay within the
 * issue's 20 probes a second.
 */

/**
 * Reflectors of a published set probed at their own, slower period, apart from the others (a
 * short pool's silent candidates or new draws; docs/algorithm.md §8.3).
 */
export interface SlowProbes {
  /** The reflectors, each one of the set. */
  readonly reflectors: readonly string[];
  /** Their probe period each, s. */
  readonly periodS: number;
}

/** Each watched candidate's probe period, s: 6 silent ones send 2 probes a second in all. */
export const WATCH_PERIOD_S = 3;

/** The most probes a second of the watched candidates in all (a large pool's many draws). */
export const WATCH_MAX_PER_S = 5;

/** The probe period of each of `silent` watched candidates, s. */
export function watchPeriodS(silent: number): number {
  return Math.max(WATCH_PERIOD_S, silent / WATCH_MAX_PER_S);
}

/** The silent candidates of the last short cycle, watched until the next cycle begins. */
export class SilentWatch {
  #watched: readonly string[] = [];
  #sinceS = Infinity;
  #atS = Infinity;
  #everyS = Infinity;

  /** The watched candidates. */
  get watched(): readonly string[] {
    return this.#watched;
  }

  /** When the next check is due, s (Infinity while nothing is watched). */
  get nextCheckS(): number {
    return this.#atS;
  }

  /** Probes a second the watch sends. */
  get perS(): number {
    return this.#watched.length === 0 ? 0 : this.#watched.length / this.#everyS;
  }

  /** Watches `silent` from `nowS`; returns how to probe them (undefined for none). */
  begin(silent: readonly string[], nowS: number): SlowProbes | undefined {
    this.clear();
    if (silent.length === 0) return undefined;
    this.#watched = silent;
    this.#everyS = watchPeriodS(silent.length);
    this.#sinceS = nowS;
    this.#atS = nowS + this.#everyS;
    return { reflectors: silent, periodS: this.#everyS };
  }

  /** Ends the watch. */
  clear(): void {
    this.#watched = [];
    this.#sinceS = this.#atS = this.#everyS = Infinity;
  }

  /**
   * At a due check (`nextCheckS`): the first watched reflector whose last reply (`lastReceiveS`,
   * s) came after the watch began (no more checks: the cycle it starts ends the watch); else
   * undefined, and the next check is a period later.
   */
  check(nowS: number, lastReceiveS: (ip: string) => number): string | undefined {
    const back = this.#watched.find((ip) => lastReceiveS(ip) >= this.#sinceS);
    this.#atS = back === undefined ? nowS + this.#everyS : Infinity;
    return back;
  }
}
