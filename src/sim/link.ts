/**
 * Fluid model of one direction of the access link in virtual time: our shaper (a rate limiter
 * with its own short, CoDel-managed queue, like CAKE) and the ISP bottleneck (a drop-tail FIFO
 * with a finite buffer). Upload: shaper → bottleneck. Download: bottleneck → shaper.
 *
 * Traffic is a byte fluid advanced in fixed steps; queueing delay of a queue is
 * backlog / service rate. Sparse flows (pings, interactive traffic) bypass the shaper's bulk
 * queue as with CAKE's flow isolation, so the delay they see is the bottleneck queue only.
 * Probes cross the FIFO queues in order (`bottleneck`, `shaper`; src/sim/fifo_crossing.ts).
 */
import { beginStep, emptyQueue, type FluidQueue } from "./fifo_crossing.ts";
import { TBF_MIN_BURST_BYTES, tbfBurstBytes } from "../apply/shaper.ts";

/** Kbit/s → bytes per second. */
export const KBIT_TO_BYTES = 125;

/** CoDel target: sojourn time the shaper queue may keep, seconds. */
const AQM_TARGET_S = 0.005;
/** CoDel interval, seconds. */
const AQM_INTERVAL_S = 0.1;
/** The shaper's hard queue limit, as time at the shaper rate (CAKE's memory limit analogue). */
const SHAPER_QUEUE_LIMIT_S = 0.1;
/** …but never below this many bytes (a few full-size packets). */
const SHAPER_QUEUE_MIN_BYTES = 15_000;

/** The queue of a FIFO shaper (TBF, HTB with a plain leaf), as time at the shaper rate… */
export const FIFO_SHAPER_LATENCY_S = 0.02;
/** …plus TBF's burst (the daemon's smallest), bytes. */
export const FIFO_SHAPER_BURST_BYTES = TBF_MIN_BURST_BYTES;

/**
 * How our shaper queues: `cake` (flow isolation for sparse traffic, CoDel-like AQM) or `fifo`
 * (TBF/HTB: one tail-drop queue of `FIFO_SHAPER_LATENCY_S` that sparse traffic waits in too).
 */
export type ShaperQueue = "cake" | "fifo";

/** Options of one direction. */
export interface DirectionOptions {
  /** `up`: shaper before the bottleneck; `down`: shaper behind it. */
  dir: "up" | "down";
  /** Bottleneck buffer size, bytes. */
  bufferBytes: number;
  /**
   * When set, the bottleneck buffer is this many seconds at the current capacity instead of
   * `bufferBytes` (a `tbf … latency` bottleneck, as in the e2e testbed).
   */
  bufferAtCapacityS?: number;
  /** Our shaper's queue (default `cake`). */
  shaperQueue?: ShaperQueue;
  /**
   * A `fifo` shaper is a TBF with the daemon's burst (src/apply/shaper.ts: 5 ms at the rate, at
   * least 3200 bytes, never shrinking): its token bucket fills while the queue is short of work,
   * and every rate change refills it (Linux's tbf_change), so after a change a backlog leaves a
   * burst above the rate (docs/simulator.md, "Link, per direction"). Default false: the shaper
   * serves exactly its rate and its queue limit uses the smallest burst.
   */
  tbfBucket?: boolean;
}

/** What happened in one direction during one step. */
export interface StepResult {
  /** Bytes delivered to the far end this step. */
  delivered: number;
  /** Bytes dropped (either queue) this step. */
  dropped: number;
  /** The shaper's AQM signalled congestion (a CoDel drop/mark) this step. */
  aqmSignal: boolean;
}

/** One direction of the link: shaper + ISP bottleneck. */
export class LinkDirection {
  /** `up` or `down`. */
  readonly dir: "up" | "down";
  /** Bottleneck buffer, bytes. */
  readonly bufferBytes: number;
  /** Our shaper's queue discipline. */
  readonly shaperQueue: ShaperQueue;
  /** Bottleneck buffer as time at the current capacity (undefined: `bufferBytes`). */
  readonly bufferAtCapacityS: number | undefined;
  /** Shaper rate, kbit/s; `Infinity` = no shaper. */
  shaperKbit = Infinity;
  /** Our shaper's queue: bytes served (`counterBytes`) and backlog. */
  readonly shaper: FluidQueue = emptyQueue();
  /** The ISP bottleneck queue: bytes served, backlog. */
  readonly bottleneck: FluidQueue = emptyQueue();
  readonly #tbfBucket: boolean;
  /** TBF: the rate its bucket was last refilled for (a change refills it), kbit/s. */
  #tbfKbit = NaN;
  /** TBF: the burst in force (the largest the daemon has set), bytes. */
  #tbfBurst: number = FIFO_SHAPER_BURST_BYTES;
  /** TBF: tokens beyond this step's rate, bytes. */
  #tbfTokens = 0;
  #aboveSince = -1;
  #nextSignal = 0;
  #signalCount = 0;

  /** Builds an empty direction. */
  constructor(options: DirectionOptions) {
    this.dir = options.dir;
    this.bufferBytes = options.bufferBytes;
    this.shaperQueue = options.shaperQueue ?? "cake";
    this.bufferAtCapacityS = options.bufferAtCapacityS;
    this.#tbfBucket = (options.tbfBucket ?? false) && this.shaperQueue === "fifo";
  }

  /** Bytes that crossed the shaper (what `ip -s link` reports on the shaped interface). */
  get counterBytes(): number {
    return this.shaper.served;
  }

  /**
   * Queueing delay (s) a sparse packet entering now would see: the bottleneck backlog drained
   * at capacity; with a FIFO shaper also the shaper's backlog (CAKE's flow isolation serves
   * sparse flows first).
   */
  sparseDelayS(capacityKbit: number): number {
    return this.#withShaperS(this.bottleneck.backlog / (capacityKbit * KBIT_TO_BYTES));
  }

  /**
   * How long a sparse packet entering now waits (s), as `sparseDelayS` but with the bottleneck's
   * backlog served in `bottleneckDrainS` (the capacity to come; the ACK path, engine.ts).
   */
  sparseWaitS(bottleneckDrainS: (bytes: number) => number): number {
    return this.#withShaperS(bottleneckDrainS(this.bottleneck.backlog));
  }

  /** `bottleneckS` plus, with a FIFO shaper, its backlog's delay (CAKE serves sparse flows first). */
  #withShaperS(bottleneckS: number): number {
    return bottleneckS + this.sparseShaperS();
  }

  /** The part of `sparseDelayS` spent in our shaper: its backlog's delay with a FIFO, else 0. */
  sparseShaperS(): number {
    return this.shaperQueue === "fifo" ? this.#shaperDelayS() : 0;
  }

  #shaperDelayS(): number {
    return this.shaperKbit === Infinity
      ? 0
      : this.shaper.backlog / (this.shaperKbit * KBIT_TO_BYTES);
  }

  /** Queueing delay (s) of the bulk traffic: shaper queue plus bottleneck queue. */
  bulkDelayS(capacityKbit: number): number {
    return this.#shaperDelayS() + this.bottleneck.backlog / (capacityKbit * KBIT_TO_BYTES);
  }

  /**
   * Advances the direction by `dt` seconds with `arrivals` bytes offered at its entry and the
   * bottleneck at `capacityKbit`. `out` receives the result (no allocation per step).
   */
  step(now: number, dt: number, arrivals: number, capacityKbit: number, out: StepResult): void {
    const capBytes = capacityKbit * KBIT_TO_BYTES * dt;
    out.dropped = 0;
    out.aqmSignal = false;
    if (this.dir === "up") {
      const shaped = this.#shape(now, dt, arrivals, out);
      out.delivered = this.#bottleneck(shaped, capBytes, dt, out);
    } else {
      const served = this.#bottleneck(arrivals, capBytes, dt, out);
      out.delivered = this.#shape(now, dt, served, out);
    }
  }

  #bottleneck(arrivals: number, capBytes: number, dt: number, out: StepResult): number {
    const queue = this.bottleneck;
    beginStep(queue);
    let q = queue.backlog + arrivals;
    const served = q < capBytes ? q : capBytes;
    q -= served;
    queue.served += served;
    const limit = this.bufferAtCapacityS === undefined
      ? this.bufferBytes
      : (this.bufferAtCapacityS * capBytes) / dt;
    if (q > limit) {
      out.dropped += q - limit;
      q = limit;
    }
    queue.backlog = q;
    return served;
  }

  #shape(now: number, dt: number, arrivals: number, out: StepResult): number {
    const queue = this.shaper;
    beginStep(queue);
    if (this.shaperKbit === Infinity) {
      queue.backlog = 0;
      queue.served += arrivals;
      return arrivals;
    }
    const rateBytes = this.shaperKbit * KBIT_TO_BYTES;
    let q = queue.backlog + arrivals;
    let budget = rateBytes * dt;
    if (this.#tbfBucket) {
      if (this.shaperKbit !== this.#tbfKbit) {
        // `tc qdisc change` sets the burst (never shrinking) and refills the bucket.
        this.#tbfKbit = this.shaperKbit;
        this.#tbfBurst = Math.max(this.#tbfBurst, tbfBurstBytes(this.shaperKbit));
        this.#tbfTokens = this.#tbfBurst;
      }
      budget += this.#tbfTokens;
    }
    const served = q < budget ? q : budget;
    q -= served;
    if (this.#tbfBucket) this.#tbfTokens = Math.min(this.#tbfBurst, budget - served);
    const fifo = this.shaperQueue === "fifo";
    // TBF's limit is rate × latency + burst (the daemon's burst is at least 3200 bytes).
    const limit = fifo
      ? rateBytes * FIFO_SHAPER_LATENCY_S + this.#tbfBurst
      : Math.max(SHAPER_QUEUE_MIN_BYTES, rateBytes * SHAPER_QUEUE_LIMIT_S);
    if (q > limit) {
      out.dropped += q - limit;
      q = limit;
    }
    queue.backlog = q;
    queue.served += served;
    if (fifo) return served; // tail drop only, no AQM
    // CoDel-like: once the sojourn time has stayed above target for an interval, signal
    // congestion, then more often (interval / sqrt(count)) while it stays above.
    const sojourn = q / rateBytes;
    if (sojourn > AQM_TARGET_S) {
      if (this.#aboveSince < 0) {
        this.#aboveSince = now;
        this.#nextSignal = now + AQM_INTERVAL_S;
      } else if (now >= this.#nextSignal) {
        this.#signalCount++;
        out.aqmSignal = true;
        this.#nextSignal = now + AQM_INTERVAL_S / Math.sqrt(this.#signalCount);
      }
    } else {
      this.#aboveSince = -1;
      this.#signalCount = 0;
    }
    return served;
  }
}
