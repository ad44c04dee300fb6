/**
 * A full garbage collection every `HEAP_TRIM_TICKS` control ticks, so that the JS heap stays near
 * its live size over months of load. V8 collects the old generation only when it has grown by at
 * least 8 MB over what was live after the last full collection (its minimum growing step, which
 * no V8 flag changes short of a hard `--max-old-space-size`), and under load the daemon promotes
 * about 8 kB a second of short-lived objects into it; V8 also keeps the pages after collecting. So
 * `capacity`'s peak RSS climbed from about 60 MB in the bench's minute to 68 MB in half an hour
 * (EWMA's to 66). A collection of the daemon's 6 MB heap takes about 12 ms here; one every 600
 * ticks (a minute of `capacity` under load, five of EWMA's, longer when idle) kept the peak at 62
 * and 61 MB, for 0.02 points of a core (docs/footprint.md, "Long runs under load").
 *
 * The collection is V8's `gc()`, which exists only with the release flag `--expose-gc`
 * (src/release/v8_flags.ts); without it (`deno task start`, tests) nothing is done.
 */

/** Control ticks between two collections. */
export const HEAP_TRIM_TICKS = 600;

/** V8's `gc()` when the runtime exposes it (`--expose-gc`), else `undefined`. */
export function exposedGc(): (() => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? () => gc() : undefined;
}

/** Counts control ticks and collects every `everyTicks` of them. */
export class HeapTrim {
  readonly #gc: (() => void) | undefined;
  readonly #everyTicks: number;
  #ticks = 0;

  /** `gc` defaults to {@linkcode exposedGc}'s; `everyTicks` to `HEAP_TRIM_TICKS`. */
  constructor(options: { gc?: () => void; everyTicks?: number } = {}) {
    this.#gc = "gc" in options ? options.gc : exposedGc();
    this.#everyTicks = options.everyTicks ?? HEAP_TRIM_TICKS;
  }

  /** Whether collections happen at all (the runtime exposes `gc()`). */
  get active(): boolean {
    return this.#gc !== undefined;
  }

  /** One control tick done; collects when it is the `everyTicks`-th since the last collection. */
  tick(): void {
    if (this.#gc === undefined || ++this.#ticks < this.#everyTicks) return;
    this.#ticks = 0;
    this.#gc();
  }
}
