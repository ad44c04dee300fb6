/**
 * Bulk TCP for the simulator: an aggregate of loss-based flows (Linux CUBIC with HyStart) in fluid
 * form. See docs/simulator.md, "Load".
 */
import { type RandomSource, seededRandom } from "../util/clock.ts";

/** Bytes per full-size segment. */
const MSS = 1500;
/** Initial / restart window, segments (RFC 6928). */
const INITIAL_WINDOW = 10;
/** CUBIC's multiplicative decrease (cwnd × 0.7 on a loss). */
const BETA = 0.7;
/** Reno's (cwnd × 0.5 on a loss). */
const BETA_RENO = 0.5;
/** CUBIC's scaling constant, segments / s³. */
const CUBIC_C = 0.4;
/** Reno-friendly growth, segments per RTT: 3 (1 − β) / (1 + β). */
const RENO_FRIENDLY = (3 * (1 - BETA)) / (1 + BETA);
/** HyStart leaves slow start when the RTT exceeds the minimum by min RTT / 8, clamped to this. */
const HYSTART_MIN_S = 0.004;
const HYSTART_MAX_S = 0.016;
/** …and only once the window holds this many segments (Linux's hystart_low_window). */
const HYSTART_LOW_WINDOW = 16;
/** The sender's own line rate, bytes/s (1 Gbit/s LAN/server): bounds a burst per step. */
const LINE_RATE_BYTES = 125_000_000;
/** Pacing gain over cwnd/RTT in slow start and congestion avoidance (Linux TCP pacing). */
const PACING_SLOW_START = 2;
const PACING_AVOIDANCE = 1.2;

/** Options of {@linkcode TcpSource}. */
export interface TcpSourceOptions {
  /**
   * Round trip without queueing, s (ACKs return this long after delivery, plus `ackDelayS` when
   * the engine models the ACK path).
   */
  baseRttS: number;
  /** Simulation step, s. */
  dt: number;
  /** Number of flows (default 4). */
  flows?: number;
  /** Which flows a loss hits (default: a fixed seed). */
  random?: RandomSource;
  /** Congestion control (default `cubic`). */
  cc?: CongestionControl;
  /**
   * A flow learns of its loss one round trip after it (the duplicate ACKs of the packets behind
   * it) and grows its window until then; false: in the step of the loss. No default here: the
   * engine's `lossAfterRtt` is the simulator's one.
   */
  lossAfterRtt: boolean;
}

/** Loss-based congestion controls the simulator models. */
export const CONGESTION_CONTROLS = ["cubic", "reno"] as const;

/** A modelled congestion control. */
export type CongestionControl = (typeof CONGESTION_CONTROLS)[number];

/**
 * A saturating aggregate of `flows` TCP flows sharing one path, in fluid form (CUBIC, or Reno:
 * one segment per RTT, halving on a loss, no HyStart). Bytes in flight
 * are shared; ACKs return one base RTT after delivery (plus `ackDelayS`, the engine's ACK path)
 * and are credited to the flows in proportion to their windows. Each flow runs its own CUBIC window: slow start (left on a loss,
 * or by HyStart when the RTT has grown by an eighth of its minimum, 4–16 ms), then the cubic
 * curve around the window of the last loss, never slower than the Reno-friendly rate. A drop of
 * `n` packets hits each flow with probability 1 − (1 − share)^n, an AQM signal one flow; a hit
 * flow cuts its window to 0.7× at most once per RTT (with `lossAfterRtt`, one round trip after
 * the loss). Being window-limited, the aggregate also slows when the queueing delay grows. After
 * idle, each window restarts from the initial window.
 */
export class TcpSource {
  readonly #n: number;
  readonly #cwnd: Float64Array;
  readonly #ssthresh: Float64Array;
  readonly #wmax: Float64Array;
  /** Cubic curve of the current epoch: origin (bytes) and K (s). */
  readonly #origin: Float64Array;
  readonly #k: Float64Array;
  readonly #wEst: Float64Array;
  readonly #epoch: Float64Array;
  readonly #lastReduce: Float64Array;
  /** When each flow learns of its pending loss (s; Infinity: none pending; `lossAfterRtt`). */
  readonly #lossAt: Float64Array;
  readonly #lossAfterRtt: boolean;
  #inflight = 0;
  /** ACKed bytes by the step they return in: `#ring[#idx]` returns in this step. */
  #ring: Float64Array;
  #idx = 0;
  /** Steps from delivery to ACK without queueing on the way back. */
  readonly #baseSteps: number;
  /** Steps from the last step's deliveries to their ACKs (ACKs keep their order). */
  #lastAckSteps = 0;
  /** The wait of the ACKs of this step's deliveries in the opposite direction's queues, s. */
  #ackDelayS = 0;
  #baseRttS: number;
  #minRttS = Infinity;
  #rttS: number;
  #now = 0;
  #active = false;
  #random: RandomSource;
  #reno: boolean;
  readonly #dt: number;

  /** Builds an idle aggregate. */
  constructor(options: TcpSourceOptions) {
    this.#baseSteps = Math.max(1, Math.round(options.baseRttS / options.dt));
    this.#ring = new Float64Array(this.#baseSteps);
    this.#dt = options.dt;
    this.#n = Math.max(1, options.flows ?? 4);
    this.#baseRttS = options.baseRttS;
    this.#rttS = options.baseRttS;
    this.#random = options.random ?? seededRandom(1);
    this.#reno = options.cc === "reno";
    this.#cwnd = new Float64Array(this.#n).fill(INITIAL_WINDOW * MSS);
    this.#ssthresh = new Float64Array(this.#n).fill(Infinity);
    this.#wmax = new Float64Array(this.#n);
    this.#origin = new Float64Array(this.#n);
    this.#k = new Float64Array(this.#n);
    this.#wEst = new Float64Array(this.#n);
    this.#epoch = new Float64Array(this.#n);
    this.#lastReduce = new Float64Array(this.#n).fill(-Infinity);
    this.#lossAt = new Float64Array(this.#n).fill(Infinity);
    this.#lossAfterRtt = options.lossAfterRtt;
  }

  /** Sum of the flows' congestion windows, bytes. */
  get cwnd(): number {
    let sum = 0;
    for (let i = 0; i < this.#n; i++) sum += this.#cwnd[i];
    return sum;
  }

  /**
   * The time the ACKs of the next deliveries wait in the opposite direction's queues, s (the
   * engine's ACK path, docs/simulator.md "Load"; 0: they return one base RTT after delivery).
   * Set before `feedback`; the `rttS` given to it includes it.
   */
  set ackDelayS(s: number) {
    this.#ackDelayS = s;
  }

  /** Whether any flow is still in slow start (for tests). */
  get inSlowStart(): boolean {
    for (let i = 0; i < this.#n; i++) if (this.#cwnd[i] < this.#ssthresh[i]) return true;
    return false;
  }

  /**
   * Processes returning ACKs and returns the bytes sent this step (0 when inactive); `rttS` is
   * the current RTT (pacing).
   */
  send(active: boolean, dt: number, rttS: number = this.#rttS): number {
    const acked = this.#ring[this.#idx];
    this.#ring[this.#idx] = 0;
    const total = this.cwnd;
    if (acked > 0) {
      this.#inflight = Math.max(0, this.#inflight - acked);
      for (let i = 0; i < this.#n; i++) this.#grow(i, (acked * this.#cwnd[i]) / total);
    }
    if (active && !this.#active) {
      // Restart after idle (RFC 5681 §4.1, as Linux): back to the initial window, slow start
      // up to 3/4 of the window before the pause.
      for (let i = 0; i < this.#n; i++) {
        this.#ssthresh[i] = Math.max(
          this.#ssthresh[i] === Infinity ? 0 : this.#ssthresh[i],
          0.75 * this.#cwnd[i],
        );
        this.#cwnd[i] = Math.min(this.#cwnd[i], INITIAL_WINDOW * MSS);
        if (this.#ssthresh[i] <= this.#cwnd[i]) this.#ssthresh[i] = Infinity;
      }
    }
    this.#active = active;
    if (!active) return 0;
    const cwnd = this.cwnd;
    let send = cwnd - this.#inflight;
    if (send <= 0) return 0;
    // Paced like Linux TCP, so a window is not dumped into the queue in one step.
    const gain = this.inSlowStart ? PACING_SLOW_START : PACING_AVOIDANCE;
    const paced = (gain * cwnd * dt) / Math.max(rttS, this.#baseRttS, dt);
    const max = Math.min(paced, LINE_RATE_BYTES * dt);
    if (send > max) send = max;
    this.#inflight += send;
    return send;
  }

  /**
   * Reports this step's outcome: `delivered` bytes reach the receiver (ACKed one base RTT plus
   * `ackDelayS` later), `dropped` bytes are lost, `signal` is an AQM drop/mark; `rttS` = current
   * RTT including queueing (both directions' with the ACK path).
   */
  feedback(now: number, delivered: number, dropped: number, signal: boolean, rttS: number): void {
    this.#now = now;
    this.#rttS = rttS;
    if (rttS < this.#minRttS) this.#minRttS = rttS;
    this.#ack(delivered);
    this.#idx = this.#idx + 1 === this.#ring.length ? 0 : this.#idx + 1;
    if (this.#lossAfterRtt) {
      for (let i = 0; i < this.#n; i++) {
        if (this.#lossAt[i] > now) continue;
        this.#lossAt[i] = Infinity;
        this.#reduce(i, now, rttS);
      }
    }
    if (dropped <= 0 && !signal) return;
    if (dropped > 0) this.#inflight = Math.max(0, this.#inflight - dropped);
    const total = this.cwnd;
    const packets = dropped / MSS;
    let signalled = !signal; // an AQM signal hits exactly one flow
    let pick = signal ? this.#random() * total : -1;
    for (let i = 0; i < this.#n; i++) {
      const share = this.#cwnd[i] / total;
      let hit = packets > 0 && this.#random() < 1 - Math.pow(1 - share, packets);
      if (!signalled) {
        pick -= this.#cwnd[i];
        if (pick < 0 || i === this.#n - 1) {
          hit = true;
          signalled = true;
        }
      }
      if (!hit) continue;
      if (!this.#lossAfterRtt) this.#reduce(i, now, rttS);
      else if (this.#lossAt[i] === Infinity) this.#lossAt[i] = now + rttS;
    }
  }

  /**
   * Schedules the ACKs of `delivered` bytes: one base RTT plus `ackDelayS` from now, never before
   * the ACKs of an earlier step (the opposite queue is a FIFO), split between the two steps
   * around a fractional time.
   */
  #ack(delivered: number): void {
    // Without the ACK path this is exactly one base RTT (a whole number of steps).
    const steps = Math.max(this.#baseSteps + this.#ackDelayS / this.#dt, this.#lastAckSteps - 1);
    this.#lastAckSteps = steps;
    const whole = Math.floor(steps);
    const frac = steps - whole;
    if (whole + (frac > 0 ? 1 : 0) > this.#ring.length) this.#growRing(whole + 1);
    const len = this.#ring.length;
    // Slot idx + k returns k steps from now (idx itself: `len` steps, it was read this step).
    this.#ring[(this.#idx + whole) % len] += delivered * (1 - frac);
    if (frac > 0) this.#ring[(this.#idx + whole + 1) % len] += delivered * frac;
  }

  /** Makes room for ACKs `steps` steps ahead, keeping the pending ones in order. */
  #growRing(steps: number): void {
    const old = this.#ring, len = old.length;
    const ring = new Float64Array(Math.max(steps, 2 * len));
    // Pending ACKs are 1 … len − 1 steps ahead; this step's slot was read and cleared.
    for (let k = 1; k < len; k++) ring[k] = old[(this.#idx + k) % len];
    this.#ring = ring;
    this.#idx = 0;
  }

  /** One flow's window growth for `acked` bytes. */
  #grow(i: number, acked: number): void {
    const cwnd = this.#cwnd[i];
    if (cwnd < this.#ssthresh[i]) {
      this.#cwnd[i] = cwnd + acked;
      if (this.#reno) return;
      // HyStart (delay increase): leave slow start before the queue overflows.
      const min = this.#minRttS;
      const eta = Math.min(HYSTART_MAX_S, Math.max(HYSTART_MIN_S, min / 8));
      if (this.#cwnd[i] >= HYSTART_LOW_WINDOW * MSS && this.#rttS > min + eta) {
        this.#ssthresh[i] = this.#cwnd[i];
        this.#startEpoch(i, this.#now);
      }
      return;
    }
    if (this.#reno) {
      this.#cwnd[i] = cwnd + (MSS * acked) / cwnd;
      return;
    }
    // CUBIC: the window the cubic curve reaches one RTT from now, approached per ACK.
    const rtt = Math.max(this.#rttS, this.#baseRttS);
    const t = this.#now - this.#epoch[i] + (Number.isFinite(this.#minRttS) ? this.#minRttS : rtt);
    const target = this.#origin[i] + CUBIC_C * (t - this.#k[i]) ** 3 * MSS;
    let next = target > cwnd
      ? cwnd + ((target - cwnd) * acked) / cwnd
      : cwnd + (0.01 * acked * MSS) / cwnd;
    // Reno-friendly region: never slower than Reno with the same average rate.
    this.#wEst[i] += (RENO_FRIENDLY * MSS * acked) / cwnd;
    if (this.#wEst[i] > next) next = this.#wEst[i];
    // At most doubling per RTT, as slow start.
    this.#cwnd[i] = Math.min(next, cwnd + acked);
  }

  /** Starts a cubic epoch at the current window (after a loss or leaving slow start). */
  #startEpoch(i: number, now: number): void {
    const cwnd = this.#cwnd[i];
    const below = Math.max(0, this.#wmax[i] - cwnd) / MSS;
    this.#k[i] = Math.cbrt(below / CUBIC_C);
    this.#origin[i] = Math.max(this.#wmax[i], cwnd);
    this.#wEst[i] = cwnd;
    this.#epoch[i] = now;
  }

  /** A loss seen by flow `i`: cut once per RTT. */
  #reduce(i: number, now: number, rttS: number): void {
    if (now - this.#lastReduce[i] <= Math.max(rttS, this.#baseRttS)) return;
    const cwnd = this.#cwnd[i];
    // Fast convergence: a flow that lost before reaching its last maximum gives up more.
    const wmax = cwnd < this.#wmax[i] ? (cwnd * (1 + BETA)) / 2 : cwnd;
    this.#cwnd[i] = Math.max(2 * MSS, cwnd * (this.#reno ? BETA_RENO : BETA));
    this.#ssthresh[i] = this.#cwnd[i];
    this.#wmax[i] = wmax;
    this.#startEpoch(i, now);
    this.#lastReduce[i] = now;
  }
}
