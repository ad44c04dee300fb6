/**
 * Slow spells of a management link: a Wi-Fi or LTE link's delay is correlated over time (bursts
 * of slow reads, not independent draws), which a per-read jitter estimate over the last 100 reads
 * (src/control/read_span.ts) follows only slowly (docs/controllers.md, "v105"). A two-state chain
 * (fast/slow, `ReadBursts`) is stepped once a leg, by a counter read's two legs and a rate
 * change's round trip alike, since both cross the same link; each leg's delay is then drawn as
 * before (counter_read.ts) with its state's exponential mean.
 */
import type { CounterRead, ReadBursts } from "./counter_read.ts";

/** Draws each leg's read parameters from a fast/slow chain over one management link. */
export class ReadBurstChain {
  readonly #random: () => number;
  readonly #fast: CounterRead;
  readonly #slow: CounterRead;
  readonly #enter: number;
  readonly #leave: number;
  #slowNow: boolean;

  /** A chain over `read`'s `bursts`, in its stationary state, drawn from `random` (one draw a leg). */
  constructor(random: () => number, read: CounterRead & { bursts: ReadBursts }) {
    const b = read.bursts;
    // The fast mean that keeps `read.meanMs` the mean over all legs.
    const fastMs = read.meanMs / (1 + b.slowShare * (b.factor - 1));
    this.#random = random;
    this.#fast = { ...read, meanMs: fastMs };
    this.#slow = { ...read, meanMs: fastMs * b.factor };
    this.#leave = 1 / b.runLegs;
    this.#enter = b.slowShare / (b.runLegs * (1 - b.slowShare));
    this.#slowNow = random() < b.slowShare;
  }

  /** Steps the chain a leg and returns that leg's read parameters. */
  leg(): CounterRead {
    const u = this.#random();
    this.#slowNow = this.#slowNow ? u >= this.#leave : u < this.#enter;
    return this.#slowNow ? this.#slow : this.#fast;
  }
}
