/**
 * Synthetic reflectors answering pings through the simulated link. They produce the same
 * `PingReply` objects the real pinger parsers yield, at the virtual time the reply would be
 * read.
 */
import { isDue, type RandomSource } from "../util/clock.ts";
import type { PingReply, ProbeMode, ProbePlan } from "../measure/types.ts";
import { FifoCrossing, type FluidQueue } from "./fifo_crossing.ts";
import {
  type FaultPlan,
  REFLECTOR_FAULT_DEFAULTS,
  routeExtraMs,
  silentAt,
} from "./reflector_faults.ts";

/** Properties of one synthetic reflector. */
export interface SimReflector {
  /** Address (documentation ranges, never contacted). */
  ip: string;
  /** Path delay beyond our link, upload direction, ms. */
  baseUpMs: number;
  /** Path delay beyond our link, download direction, ms. */
  baseDownMs: number;
  /** Mean of the exponential jitter added per direction, ms. */
  jitterMs: number;
  /** Probability that a probe or its reply is lost. */
  loss: number;
  /** Reflector clock offset for timestamp mode, ms (up gains it, down loses it). */
  clockOffsetMs: number;
  /** What is wrong with it (`--reflector-faults`; reflector_faults.ts), if anything. */
  fault?: FaultPlan;
}

/**
 * Makes `count` reflectors with varied base delays (5–30 ms each way), jitter (0.2–1.5 ms, times
 * `jitterScale`), loss (0–`maxLoss`) and clock offsets (±400 ms). Addresses are 192.0.2.x /
 * 198.51.100.x.
 */
export function makeReflectors(
  count: number,
  random: RandomSource,
  options: { maxLoss?: number; jitterScale?: number } = {},
): SimReflector[] {
  const out: SimReflector[] = [];
  for (let i = 0; i < count; i++) {
    const base = 5 + random() * 20;
    out.push({
      ip: i < 200 ? `192.0.2.${i + 1}` : `198.51.100.${i - 199}`,
      baseUpMs: base + random() * 5,
      baseDownMs: base + random() * 5,
      jitterMs: (0.2 + random() * 1.3) * (options.jitterScale ?? 1),
      loss: random() * (options.maxLoss ?? 0.01),
      clockOffsetMs: Math.round((random() - 0.5) * 800),
    });
  }
  return out;
}

interface Pending {
  at: number;
  reply: PingReply;
}

/** A probe on its way: through our link's upload queues, to the reflector and back. */
interface Flight {
  r: SimReflector;
  seq: number;
  /** Send time, s. */
  sentS: number;
  /** Path jitter each way, ms (drawn at send, so the random stream does not depend on queues). */
  jitterUpMs: number;
  jitterDownMs: number;
  /** How long the reflector holds the request before it answers (a `late` fault), ms. */
  holdMs: number;
  /** When the reflector answered, s. */
  atReflectorS: number;
}

/**
 * The FIFO queues of our link a probe crosses, in order: `up` from the router to the ISP (a
 * FIFO shaper's, then the ISP's), `down` from the ISP to the router (the ISP's, then a FIFO
 * shaper's when the probes pass it). A queue that isolates sparse flows (CAKE) is left out.
 */
export interface ProbeQueues {
  /** Upload queues, in crossing order. */
  up: readonly FluidQueue[];
  /** Download queues, in crossing order. */
  down: readonly FluidQueue[];
  /** The link's step, s (`advance` is called at the end of each). */
  stepS: number;
}

/**
 * How the pinger's probe schedule follows a change of the peer set: `restart` (fping, tsping:
 * one process for all peers, restarted with the new set, whose first round spreads the probes
 * evenly from the restart) or `per-reflector` (iputils ping: one process per peer; kept peers
 * keep their phase, new ones start spread over one interval).
 */
export type ProbeSchedule = "restart" | "per-reflector";

/**
 * Sends probes to the current peers, one per reflector every `intervalS` (staggered), and
 * hands back replies when they arrive. A probe crosses our link's queues in FIFO order as it
 * reaches each (`ProbeQueues`; `advance` moves them every step). Timestamp mode gives integer
 * up/down OWDs including the reflector's clock offset (as ICMP timestamps do); echo mode gives
 * rtt/2 both ways.
 */
export class ReflectorField {
  #byIp = new Map<string, SimReflector>();
  #nextProbe = new Map<string, number>();
  #seq = new Map<string, number>();
  #pending: Pending[] = [];
  /** Replies on their way to the download queues, by arrival time. */
  #toDown: { at: number; flight: Flight }[] = [];
  #up: FifoCrossing<Flight>[];
  #down: FifoCrossing<Flight>[];
  #onUp: ((f: Flight, t: number) => void)[];
  #onDown: ((f: Flight, t: number) => void)[];
  /** Whether the probes cross any of our link's queues (`ProbeQueues`). */
  readonly #crossing: boolean;
  /** Probes sent through the queues and not yet read; `advance` has nothing to do at 0. */
  #inFlight = 0;
  /** Time of the current `advance`. */
  #now = 0;
  #lastPeers: readonly string[] | undefined;
  #lastSet = new Set<string>();
  #earliestDue = -Infinity;
  #schedule: ProbeSchedule;
  #random: RandomSource;
  /** Draws of the faults (`late`), a stream apart from the link's. */
  #faultRandom: RandomSource;
  #mode: ProbeMode;
  /** The tick: the probe period per reflector unless `probe` is given another. */
  readonly #tickS: number;
  #intervalS: number;
  /** Peers probed at `#slowS` instead (`ProbePlan.slow`). */
  #slowSet = new Set<string>();
  #slowS = 0;
  /** Every reflector, the pool the selector may choose from. */
  readonly reflectors: readonly SimReflector[];
  /** Probes sent. */
  sent = 0;
  /** Probes lost. */
  lost = 0;
  /** Second of the run (floor of the time) whose probes `#inSecond` counts. */
  #second = 0;
  #inSecond = 0;
  #peakPerS = 0;

  /** The most probes sent within one second of the run (from one whole second to the next). */
  get peakPerS(): number {
    return Math.max(this.#peakPerS, this.#inSecond);
  }

  /** Builds the field. */
  constructor(
    reflectors: readonly SimReflector[],
    options: {
      random: RandomSource;
      mode: ProbeMode;
      intervalS: number;
      /** Default `restart` (fping). */
      schedule?: ProbeSchedule;
      /** Our link's queues the probes cross (default none: path delay and jitter only). */
      queues?: ProbeQueues;
      /** Randomness of the reflectors' faults (`late` replies; default `random`). */
      faultRandom?: RandomSource;
    },
  ) {
    this.reflectors = reflectors;
    this.#schedule = options.schedule ?? "restart";
    for (const r of reflectors) this.#byIp.set(r.ip, r);
    this.#random = options.random;
    this.#faultRandom = options.faultRandom ?? options.random;
    this.#mode = options.mode;
    this.#tickS = options.intervalS;
    this.#intervalS = options.intervalS;
    const stepS = options.queues?.stepS ?? 0;
    this.#up = (options.queues?.up ?? []).map((q) => new FifoCrossing<Flight>(q, stepS));
    this.#down = (options.queues?.down ?? []).map((q) => new FifoCrossing<Flight>(q, stepS));
    this.#crossing = this.#up.length > 0 || this.#down.length > 0;
    this.#onUp = this.#up.map((_, i) => (f: Flight, t: number) => {
      if (i + 1 < this.#up.length) this.#up[i + 1].enter(this.#now, t, f);
      else this.#reachReflector(f, t);
    });
    this.#onDown = this.#down.map((_, i) => (f: Flight, t: number) => {
      if (i + 1 < this.#down.length) this.#down[i + 1].enter(this.#now, t, f);
      else this.#receive(f, t);
    });
  }

  /**
   * Moves the probes in flight to `now`; call after every step of the link (ending at `now`),
   * before `probe`. A probe leaves a queue when the bytes ahead of it have been served
   * (`FifoCrossing`).
   */
  advance(now: number): void {
    if (this.#inFlight === 0) return;
    this.#now = now;
    for (let i = 0; i < this.#up.length; i++) this.#up[i].leave(now, this.#onUp[i]);
    let n = 0;
    while (n < this.#toDown.length && this.#toDown[n].at <= now) {
      const { at, flight } = this.#toDown[n++];
      if (this.#down.length > 0) this.#down[0].enter(now, at, flight);
      else this.#receive(flight, at);
    }
    if (n > 0) this.#toDown.splice(0, n);
    for (let i = 0; i < this.#down.length; i++) this.#down[i].leave(now, this.#onDown[i]);
  }

  /**
   * Sends the probes due at `now` to `peers` (after `advance(now)`), each every `periodS`
   * (default the tick; a short set is probed faster, `src/reflectors/short_pool.ts`).
   */
  probe(now: number, peers: readonly string[], plan?: ProbePlan): void {
    // Fast path: same peer list and nothing due yet (most 10 ms steps).
    if (peers === this.#lastPeers && !isDue(now, this.#earliestDue)) return;
    if (peers !== this.#lastPeers) this.#follow(now, peers, plan);
    this.#lastPeers = peers;
    let earliest = Infinity;
    for (let i = 0; i < peers.length; i++) {
      const ip = peers[i];
      const r = this.#byIp.get(ip);
      if (r === undefined) continue;
      const due = this.#nextProbe.get(ip) ?? now;
      if (!isDue(now, due)) {
        if (due < earliest) earliest = due;
        continue;
      }
      // A reflector that left the peers and came back starts a fresh schedule.
      const every = this.#slowSet.has(ip) ? this.#slowS : this.#intervalS;
      const next = due + every < now ? now + every : due + every;
      this.#nextProbe.set(ip, next);
      if (next < earliest) earliest = next;
      const seq = (this.#seq.get(ip) ?? -1) + 1;
      this.#seq.set(ip, seq);
      this.sent++;
      const second = Math.floor(now);
      if (second !== this.#second) {
        if (this.#inSecond > this.#peakPerS) this.#peakPerS = this.#inSecond;
        this.#second = second;
        this.#inSecond = 0;
      }
      this.#inSecond++;
      if (this.#random() < r.loss) {
        this.lost++;
        continue;
      }
      const flight: Flight = {
        r,
        seq,
        sentS: now,
        jitterUpMs: this.#jitter(r),
        jitterDownMs: this.#jitter(r),
        holdMs: r.fault?.lateP !== undefined ? this.#hold(r.fault.lateP) : 0,
        atReflectorS: now,
      };
      // A dead or silent reflector: drawn as the others, so the link's random stream is not
      // shifted.
      if (silentAt(r.fault, now)) {
        this.lost++;
        continue;
      }
      if (this.#crossing) this.#inFlight++;
      if (this.#up.length > 0) this.#up[0].enter(now, now, flight);
      else this.#reachReflector(flight, now);
    }
    this.#earliestDue = earliest;
  }

  /** The probe left our link's upload queues at `t`: it reaches the reflector, which answers. */
  #reachReflector(f: Flight, t: number): void {
    const { r } = f;
    // A `late` hold counts on the upload's OWD: the reflector stamps a timestamp reply when it
    // answers. A route change adds to one direction's path delay while it lasts.
    f.atReflectorS = t +
      (r.baseUpMs + routeExtraMs(r.fault, "up", t) + f.jitterUpMs + f.holdMs) / 1000;
    const at = f.atReflectorS +
      (r.baseDownMs + routeExtraMs(r.fault, "down", f.atReflectorS) + f.jitterDownMs) / 1000;
    if (this.#down.length === 0) {
      this.#receive(f, at);
      return;
    }
    let i = this.#toDown.length;
    while (i > 0 && this.#toDown[i - 1].at > at) i--;
    this.#toDown.splice(i, 0, { at, flight: f });
  }

  /** The reply has left our link's download queues at `t`: the pinger reads it. */
  #receive(f: Flight, t: number): void {
    if (this.#crossing) this.#inFlight--;
    const { r } = f;
    const up = (f.atReflectorS - f.sentS) * 1000;
    const down = (t - f.atReflectorS) * 1000;
    const rtt = up + down;
    const reply: PingReply = this.#mode === "timestamp"
      ? {
        reflector: r.ip,
        seq: f.seq,
        rttMs: rtt,
        upMs: Math.floor(up + r.clockOffsetMs),
        downMs: Math.floor(down - r.clockOffsetMs),
        receiveTimeS: t,
      }
      : {
        reflector: r.ip,
        seq: f.seq,
        rttMs: rtt,
        upMs: rtt / 2,
        downMs: rtt / 2,
        receiveTimeS: t,
      };
    this.#insert({ at: t, reply });
  }

  /** Removes and returns (in arrival order) the replies that have arrived by `now`. */
  collect(now: number, out: PingReply[]): void {
    let n = 0;
    while (n < this.#pending.length && this.#pending[n].at <= now) {
      out.push(this.#pending[n].reply);
      n++;
    }
    if (n > 0) this.#pending.splice(0, n);
  }

  /**
   * A new peer list: when the set changed, the schedule follows the pinger (`ProbeSchedule`).
   * Re-entering peers used to keep a stale due time and all fire at once, so after the
   * selector's cycles the probes went out in bursts (docs/simulator.md, "Reflectors").
   */
  #follow(now: number, peers: readonly string[], plan: ProbePlan | undefined): void {
    const periodS = plan?.periodS ?? this.#tickS;
    const slowSet = new Set(plan?.slow?.reflectors ?? []);
    const slowS = plan?.slow?.periodS ?? 0;
    const main = slowSet.size === 0 ? peers : peers.filter((ip) => !slowSet.has(ip));
    const set = new Set(main);
    const newPeriod = periodS !== this.#intervalS;
    const mainSame = !newPeriod && sameSet(set, this.#lastSet);
    const slowSame = slowS === this.#slowS && sameSet(slowSet, this.#slowSet);
    if (mainSame && slowSame) return;
    const oldSlow = this.#slowSet;
    this.#slowSet = slowSet;
    this.#slowS = slowS;
    if (!slowSame) {
      // The slow group is a pinger of its own (`SlowProbes`): a change restarts it only.
      for (const ip of oldSlow) this.#nextProbe.delete(ip);
      for (const ip of slowSet) this.#nextProbe.delete(ip);
      const slow = [...slowSet];
      for (let k = 0; k < slow.length; k++) {
        this.#nextProbe.set(slow[k], now + (k / slow.length) * slowS);
      }
    }
    if (mainSame) return;
    this.#lastSet = set;
    this.#intervalS = periodS;
    // Another period restarts every process (iputils ping's `-i` too).
    const restart = this.#schedule === "restart" || newPeriod;
    for (const ip of [...this.#nextProbe.keys()]) {
      if (!slowSet.has(ip) && (restart || !set.has(ip))) this.#nextProbe.delete(ip);
    }
    const added = main.filter((ip) => !this.#nextProbe.has(ip));
    // Spread evenly across the interval, as fping --interval tick/N does (and the daemon's
    // stagger of new ping processes).
    for (let k = 0; k < added.length; k++) {
      this.#nextProbe.set(added[k], now + (k / added.length) * this.#intervalS);
    }
  }

  /** A `late` reflector's hold: with probability `p` uniform in 20–300 ms, else 0. */
  #hold(p: number): number {
    if (!(this.#faultRandom() < p)) return 0;
    const d = REFLECTOR_FAULT_DEFAULTS;
    return d.lateMinMs + this.#faultRandom() * (d.lateMaxMs - d.lateMinMs);
  }

  #jitter(r: SimReflector): number {
    return -r.jitterMs * Math.log(1 - this.#random());
  }

  #insert(p: Pending): void {
    // Keep the pending list sorted by arrival time; it is short (one RTT of probes).
    let i = this.#pending.length;
    while (i > 0 && this.#pending[i - 1].at > p.at) i--;
    this.#pending.splice(i, 0, p);
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
