/**
 * Synthetic reflectors answering pings through the simulated link. They produce the same
 * `PingReply` objects the real pinger parsers yield, at the virtual time the reply would be
 * read.
 */
import { isDue, type RandomSource } from "../util/clock.ts";
import type { PingReply, ProbeMode } from "../measure/types.ts";

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
}

/**
 * Makes `count` reflectors with varied base delays (5–30 ms each way), jitter (0.2–1.5 ms),
 * loss (0–`maxLoss`) and clock offsets (±400 ms). Addresses are 192.0.2.x / 198.51.100.x.
 */
export function makeReflectors(
  count: number,
  random: RandomSource,
  options: { maxLoss?: number } = {},
): SimReflector[] {
  const out: SimReflector[] = [];
  for (let i = 0; i < count; i++) {
    const base = 5 + random() * 20;
    out.push({
      ip: i < 200 ? `192.0.2.${i + 1}` : `198.51.100.${i - 199}`,
      baseUpMs: base + random() * 5,
      baseDownMs: base + random() * 5,
      jitterMs: 0.2 + random() * 1.3,
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

/**
 * How the pinger's probe schedule follows a change of the peer set: `restart` (fping, tsping:
 * one process for all peers, restarted with the new set, whose first round spreads the probes
 * evenly from the restart) or `per-reflector` (iputils ping: one process per peer; kept peers
 * keep their phase, new ones start spread over one interval).
 */
export type ProbeSchedule = "restart" | "per-reflector";

/**
 * Sends probes to the current peers, one per reflector every `intervalS` (staggered), and
 * hands back replies when they arrive. Timestamp mode gives integer up/down OWDs including
 * the reflector's clock offset (as ICMP timestamps do); echo mode gives rtt/2 both ways.
 */
export class ReflectorField {
  #byIp = new Map<string, SimReflector>();
  #nextProbe = new Map<string, number>();
  #seq = new Map<string, number>();
  #pending: Pending[] = [];
  #lastPeers: readonly string[] | undefined;
  #lastSet = new Set<string>();
  #earliestDue = -Infinity;
  #schedule: ProbeSchedule;
  #random: RandomSource;
  #mode: ProbeMode;
  #intervalS: number;
  /** Every reflector, the pool the selector may choose from. */
  readonly reflectors: readonly SimReflector[];
  /** Probes sent. */
  sent = 0;
  /** Probes lost. */
  lost = 0;

  /** Builds the field. */
  constructor(
    reflectors: readonly SimReflector[],
    options: {
      random: RandomSource;
      mode: ProbeMode;
      intervalS: number;
      /** Default `restart` (fping). */
      schedule?: ProbeSchedule;
    },
  ) {
    this.reflectors = reflectors;
    this.#schedule = options.schedule ?? "restart";
    for (const r of reflectors) this.#byIp.set(r.ip, r);
    this.#random = options.random;
    this.#mode = options.mode;
    this.#intervalS = options.intervalS;
  }

  /**
   * Sends the probes due at `now` to `peers`; `queueUpMs` / `queueDownMs` are the queueing
   * delays our link adds right now (sampled at send time, the probe's reply follows within
   * one RTT).
   */
  probe(now: number, peers: readonly string[], queueUpMs: number, queueDownMs: number): void {
    // Fast path: same peer list and nothing due yet (most 10 ms steps).
    if (peers === this.#lastPeers && !isDue(now, this.#earliestDue)) return;
    if (peers !== this.#lastPeers) this.#follow(now, peers);
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
      const next = due + this.#intervalS < now ? now + this.#intervalS : due + this.#intervalS;
      this.#nextProbe.set(ip, next);
      if (next < earliest) earliest = next;
      const seq = (this.#seq.get(ip) ?? -1) + 1;
      this.#seq.set(ip, seq);
      this.sent++;
      if (this.#random() < r.loss) {
        this.lost++;
        continue;
      }
      const up = r.baseUpMs + queueUpMs + this.#jitter(r);
      const down = r.baseDownMs + queueDownMs + this.#jitter(r);
      const rtt = up + down;
      const reply: PingReply = this.#mode === "timestamp"
        ? {
          reflector: ip,
          seq,
          rttMs: rtt,
          upMs: Math.floor(up + r.clockOffsetMs),
          downMs: Math.floor(down - r.clockOffsetMs),
          receiveTimeS: now + rtt / 1000,
        }
        : {
          reflector: ip,
          seq,
          rttMs: rtt,
          upMs: rtt / 2,
          downMs: rtt / 2,
          receiveTimeS: now + rtt / 1000,
        };
      this.#insert({ at: reply.receiveTimeS, reply });
    }
    this.#earliestDue = earliest;
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
  #follow(now: number, peers: readonly string[]): void {
    const set = new Set(peers);
    if (set.size === this.#lastSet.size && peers.every((ip) => this.#lastSet.has(ip))) return;
    this.#lastSet = set;
    if (this.#schedule === "restart") this.#nextProbe.clear();
    for (const ip of [...this.#nextProbe.keys()]) if (!set.has(ip)) this.#nextProbe.delete(ip);
    const added = peers.filter((ip) => !this.#nextProbe.has(ip));
    // Spread evenly across the interval, as fping --interval tick/N does (and the daemon's
    // stagger of new ping processes).
    for (let k = 0; k < added.length; k++) {
      this.#nextProbe.set(added[k], now + (k / added.length) * this.#intervalS);
    }
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
