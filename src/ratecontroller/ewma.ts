/**
 * The EWMA rate controller, formula-faithful to upstream Lua 0.6.1 (docs/algorithm.md §6, §7.3).
 * The control loop computes the readings and clamps/floors the result; this module only keeps
 * the safe-rate rings and applies the increase and decrease rules.
 */
import type { RandomSource } from "../util/clock.ts";
import type { Settings } from "../config/types.ts";
import type { Ratecontroller, RateDecision, TickInput } from "../control/ratecontroller_port.ts";

/** Per-direction state: the safe-rate ring and its next write slot. */
interface Direction {
  readonly base: number;
  readonly safe: number[];
  nrate: number;
}

/** The settings the EWMA controller reads. */
export type EwmaSettings = Pick<
  Settings,
  "base_dl_rate" | "base_ul_rate" | "histsize" | "high_load_level"
>;

/** Options of the EWMA controller. */
export interface EwmaOptions {
  /** Initial safe-rate rings instead of random ones (histsize entries each). */
  rings?: { up: readonly number[]; down: readonly number[] };
}

/** Largest value of a non-empty array (Lua `util.maximum`). */
function maximum(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** The upstream EWMA controller. */
export class EwmaController implements Ratecontroller {
  /** Display name. */
  readonly name = "ewma";
  readonly #dl: Direction;
  readonly #ul: Direction;
  readonly #histsize: number;
  readonly #highLoad: number;
  readonly #random: RandomSource;

  /**
   * Creates the rings from `random` (download slot then upload slot, per index, as Lua), or
   * takes `options.rings` as given (tests, simulator scenarios; length must be histsize).
   */
  constructor(settings: EwmaSettings, random: RandomSource, options: EwmaOptions = {}) {
    const size = Math.max(1, Math.floor(settings.histsize));
    this.#histsize = size;
    this.#highLoad = settings.high_load_level;
    this.#random = random;
    let dl: number[];
    let ul: number[];
    if (options.rings !== undefined) {
      if (options.rings.down.length !== size || options.rings.up.length !== size) {
        throw new RangeError(`EwmaController: rings must have histsize (${size}) entries`);
      }
      dl = [...options.rings.down];
      ul = [...options.rings.up];
    } else {
      // Lua fills both rings in one loop, download first, so the draws interleave.
      dl = new Array(size);
      ul = new Array(size);
      for (let i = 0; i < size; i++) {
        dl[i] = (random() * 0.2 + 0.75) * settings.base_dl_rate;
        ul[i] = (random() * 0.2 + 0.75) * settings.base_ul_rate;
      }
    }
    this.#dl = { base: settings.base_dl_rate, safe: dl, nrate: 0 };
    this.#ul = { base: settings.base_ul_rate, safe: ul, nrate: 0 };
  }

  /** Applies the rules in Lua order: up-increase, down-increase, up-decrease, down-decrease. */
  decide(input: TickInput): RateDecision {
    const r = input.readings;
    let nextUl = r.cur_ul_rate;
    let nextDl = r.cur_dl_rate;
    const up = r.up_del_stat;
    const down = r.down_del_stat;
    // Lua applies the rules also when the statistic is 0 (Rust holds on ≤ 0); we follow Lua.
    if (up < input.ul_max_delta_owd && r.tx_load > this.#highLoad) {
      nextUl = this.#increase(this.#ul, r.cur_ul_rate, r.tx_load);
    }
    if (down < input.dl_max_delta_owd && r.rx_load > this.#highLoad) {
      nextDl = this.#increase(this.#dl, r.cur_dl_rate, r.rx_load);
    }
    if (up > input.ul_max_delta_owd) {
      nextUl = this.#decrease(this.#ul, r.cur_ul_rate, r.tx_load);
    }
    if (down > input.dl_max_delta_owd) {
      nextDl = this.#decrease(this.#dl, r.cur_dl_rate, r.rx_load);
    }
    return { next_dl_rate: nextDl, next_ul_rate: nextUl };
  }

  /** The rings for the speed-history dump (live views; do not mutate). */
  speedHistory(): { up: readonly number[]; down: readonly number[] } {
    return { up: this.#ul.safe, down: this.#dl.safe };
  }

  #increase(d: Direction, cur: number, load: number): number {
    d.safe[d.nrate] = Math.floor(cur * load);
    const maxSafe = maximum(d.safe);
    const next = cur * (1 + 0.1 * Math.max(0, 1 - cur / maxSafe)) + d.base * 0.03;
    d.nrate = (d.nrate + 1) % this.#histsize;
    return next;
  }

  #decrease(d: Direction, cur: number, load: number): number {
    // Lua draws `safe[random(#safe) - 1]`; its 0-based ring makes `#safe` = histsize − 1, so
    // the last slot is never picked and histsize 1 disables the cap. That is an accident of
    // Lua's length operator, not a design choice: we draw from all slots, as the Rust port
    // does (docs/algorithm.md §6.4).
    const index = Math.min(this.#histsize - 1, Math.floor(this.#random() * this.#histsize));
    return Math.min(0.9 * cur * load, d.safe[index]);
  }
}
