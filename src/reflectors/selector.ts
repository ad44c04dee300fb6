/**
 * Reflector selection (docs/algorithm.md §8) as a state machine driven by explicit `step(now)` calls,
 * so the daemon (real timers, `SelectorRunner`), the simulator and the tests (virtual time) run
 * the same logic.
 *
 * Differences from upstream, on purpose:
 * - Reselect requests are coalesced: any number of requests while one is pending cause one
 *   cycle (upstream queues one token per request, so cycles run back-to-back); the control loop's
 *   "too few fresh" requests made while a cycle that answers one runs are folded into it
 *   (docs/algorithm.md §8.2); such a request made during another cycle publishes its candidates
 *   again, unchanged, so that the pinger restarts a child silent for the loop's window
 *   (`#publishAgain`; docs/operation.md, "Its helper processes").
 * - A cycle in which no candidate has data keeps the previous peers (Rust would publish an
 *   empty list); fewer candidates than `num_reflectors` limit this cycle only (Rust).
 * - The selector runs whatever the pool size (Rust never runs it when the pool is not larger
 *   than `num_reflectors`).
 * - When at least `num_reflectors` candidates answered during the cycle, only those are ranked:
 *   Rust ranks by the recent RTT of any age, so a peer that stopped answering, its last RTT low,
 *   was drawn again and again (docs/controllers.md, "v61: faulty reflectors").
 * - Candidates given as `avoid` (reflectors often well above the other peers) are left out when
 *   at least `num_reflectors` others answered (docs/controllers.md, "v65"); a cycle does not
 *   probe the avoided ones it drew anew unless fewer than `num_reflectors` others answered
 *   (`avoided_draws.ts`, "v72"); while the pool is known to hold bad reflectors, a draw takes
 *   those judged sound first (`sound_first.ts`).
 * - A cycle in which some but fewer than `num_reflectors` candidates answered keeps exactly those,
 *   probed faster, and backs off as after a cycle without answers (`short_pool.ts`,
 *   docs/algorithm.md §8.3 step 5; docs/controllers.md, "v76"); but one that heard fewer than the
 *   peers fresh at its start (a probing hiccup: a starved daemon or pinger) first probes one
 *   window more (`#lookAgain`).
 * - Before the first cycle, initial peers that mostly look faulty are probed faster
 *   (`hurryInitial`, `hurried_start.ts`; docs/controllers.md, "v79").
 * - A cycle whose candidates at the tick would send more than 20 probes a second (the embedded
 *   list) probes its new draws apart within the 20, for longer, and its selected peers are
 *   awaited, not missing, for `AWAITED_TICKS` after it (`cycle_budget.ts`; docs/controllers.md,
 *   "v86").
 */
import { stageLogger } from "../log/mod.ts";
import type { OwdState, ReselectRequester, ReselectRequestOptions } from "../control/ports.ts";
import { isDue, type RandomSource } from "../util/clock.ts";
import { holdAvoidedDraws } from "./avoided_draws.ts";
import { soundFirst } from "./sound_first.ts";
import { shortSetPeriodS } from "./short_pool.ts";
import { SilentWatch, type SlowProbes } from "./silent_watch.ts";
import { cycleProbes, drawsApart } from "./cycle_budget.ts";
import { freshWindowS } from "../control/deltas.ts";

/**
 * How long after a selection that follows a cycle with draws probed apart (`cycle_budget.ts`) a
 * peer without a fresh reply counts as awaited, not missing (`OwdState.awaitedUntilS`), in ticks:
 * `ping` starts a new peer's process up to a tick after the switch (src/measure/pinger.ts, spread
 * over the tick), fping restarts its child for the new set, which probes its targets oldest
 * reply first (src/measure/probe_order.ts): after such a cycle the draws' replies are the older
 * (probed apart, seconds apart), so the kept peers come last, up to a tick after the child's
 * start; and from then on each has the loop's window of fresh replies, 2
 * ticks (src/control/deltas.ts), as any peer. A pinger whose children start late adds its start
 * delay (`SelectorOptions.startDelayS`): `ping` started 1.2 s late answered after the 3 ticks; or
 * its hand-over delay, from the publication (`SelectorOptions.handOverDelayS`), when longer.
 */
export const AWAITED_TICKS = 3;

/**
 * A pinger whose children start at least this many ticks late (`SelectorOptions.startDelayS`, or
 * after the hand-over: `SelectorOptions.handOverDelayS`) has every publication that restarts the
 * peers' child await its peers, not only a selection after a cycle with draws apart: fping restarts
 * its one child for a cycle's candidates and for the selected peers, each target probed up to a
 * tick after the child's start (oldest reply first, src/measure/probe_order.ts: at a cycle's start
 * the peers before the new draws, which were never heard), and a start that late leaves them stale
 * beyond the loop's window. Faster starts leave the rule as it was (the simulator's pinger starts
 * at once; awaiting there too changed its figures) and need nothing more: fping 0.1–0.25 s late
 * left no peer stale (docs/operation.md, "Its helper processes").
 */
export const SLOW_START_TICKS = 0.5;

/** How a published set is probed: each every `periodS`, but `slow` apart at its own period. */
export interface PeerProbes {
  /** Probe period per reflector, s (the tick but for a short set: `short_pool.ts`). */
  periodS: number;
  /** A short pool's new draws or silent candidates, probed slowly (`silent_watch.ts`). */
  slow?: SlowProbes;
}

const log = stageLogger("reflectors");

/** Selector constants and wiring; defaults are upstream's. */
export interface SelectorOptions {
  /** Shared state: `peers` is published here, `recent` is read for ranking. */
  owd: OwdState;
  /** All reflectors that may be drawn. */
  pool: readonly string[];
  /** Peers kept after a reselection (setting `num_reflectors`). */
  numReflectors: number;
  /** Tick, s (setting `tick_interval`): waits are tick × π. */
  tickS: number;
  /** Reselection period after the first 40 reselections, minutes. */
  peerReselectionTimeMin: number;
  /** Uniform [0, 1) source for pool draws and the shuffle. */
  random: RandomSource;
  /**
   * Called after every publication of `owd.peers` (e.g. to restart the pinger), with how that
   * set is probed.
   */
  onPeers?: (
    peers: readonly string[],
    phase: "candidates" | "selected",
    probes: PeerProbes,
  ) => void;
  /**
   * Called when the loop still finds too few fresh during a cycle that answers such a request (a
   * request folded into it), so that the pinger restarts a child kept through the cycle's start
   * that fell silent since (`Pinger.restartKeptSilent`).
   */
  onStillTooFew?: () => void;
  /** Timer before the first 40 reselections, s. Default 30. */
  initialSleepS?: number;
  /** Reselections before the timer becomes `peer_reselection_time`. Default 40. */
  slowdownAfter?: number;
  /** Pool draws per cycle. Default 20. */
  randomPicks?: number;
  /** Wait after the first cycle in which no candidate answered, s; doubles. Default 5. */
  quietBackoffS?: number;
  /** Longest wait between cycles while no candidate answers, s. Default 300. */
  maxQuietBackoffS?: number;
  /**
   * Candidates to leave out when at least `numReflectors` others answered (`ReflectorSpread`:
   * reflectors often well above the other peers; docs/controllers.md, "v65"); new draws among
   * them are probed only when too few others answered (v72). Default none.
   */
  avoid?: (ip: string) => boolean;
  /**
   * Candidates a draw takes before the others (`ReflectorSpread.preferred`: judged sound while
   * the pool holds bad ones; docs/controllers.md, "v72"). Default none.
   */
  prefer?: (ip: string) => boolean;
  /**
   * How late the pinger's children start, s (`Pinger.startDelayS`): a cycle probes that much
   * longer, and awaited peers are awaited that much longer (`AWAITED_TICKS`). Default 0 (the
   * simulator's pinger).
   */
  startDelayS?: () => number;
  /**
   * How late the pinger's child for a new set starts after the set was given, s
   * (`Pinger.handOverDelayS`: the old child's end and reaping, the spawn and the start): awaited
   * peers count from the hand-over (`#lateS`). Default 0 (the simulator's pinger, `ping`).
   */
  handOverDelayS?: () => number;
  /**
   * When the pinger last spawned the child that probes the published set at its period, s
   * (`Pinger.spawnedS`): a cycle's window counts from that child's spawn when it came after the
   * publication (`#fromSpawn`). Default none (the simulator's pinger switches at once).
   */
  spawnedS?: () => number;
}

/** What the selector is doing. */
export type SelectorPhase = "stopped" | "settling" | "idle" | "probing";

/** Ranks candidates by recent up + down (float, any age) and returns the fastest `keep`. */
export function rankCandidates(
  candidates: readonly string[],
  owd: OwdState,
  keep: number,
): string[] {
  const ranked: { ip: string; rtt: number }[] = [];
  for (const ip of candidates) {
    const r = owd.recent.get(ip);
    if (r) ranked.push({ ip, rtt: r.up_ewma + r.down_ewma });
  }
  ranked.sort((a, b) => a.rtt - b.rtt); // stable, like Rust
  return ranked.slice(0, keep).map((x) => x.ip);
}

/** In-place Fisher–Yates: for i from last down to 1 swap i with a uniform j in [0, i]. */
export function fisherYates<T>(items: T[], random: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Candidate set like Rust: current peers in order, then new pool draws in draw order. */
export function buildCandidates(
  peers: readonly string[],
  pool: readonly string[],
  picks: number,
  random: RandomSource,
): string[] {
  const out = [...new Set(peers)];
  const seen = new Set(out);
  if (pool.length === 0) return out;
  for (let k = 0; k < picks; k++) {
    const ip = pool[Math.min(pool.length - 1, Math.floor(random() * pool.length))];
    if (!seen.has(ip)) {
      seen.add(ip);
      out.push(ip);
    }
  }
  return out;
}

/** The reflector selector state machine. Also the `ReselectRequester` of the pipeline. */
export class ReflectorSelector implements ReselectRequester {
  readonly #o: SelectorOptions;
  #pool: readonly string[];
  readonly #settleS: number;
  readonly #slowdownAfter: number;
  readonly #picks: number;
  #phase: SelectorPhase = "stopped";
  #wakeAtS = Infinity;
  #sleepS: number;
  #pending = false;
  /** Whether a pending request is the control loop's "too few fresh" (`tooFewFresh`). */
  #pendingTooFew = false;
  #coalesced = 0;
  #count = 0;
  #candidates: string[] = [];
  /** Avoided new draws the current cycle has not probed (v72, `avoided_draws.ts`). */
  #held: string[] = [];
  /** When the current cycle began probing its candidates, s. */
  #cycleStartS = -Infinity;
  /** The peers before the current cycle (`cycle_budget.ts`). */
  #cyclePeers: readonly string[] = [];
  /** How many of `#cyclePeers` were fresh when the current cycle began (`#lookAgain`). */
  #freshAtStart = 0;
  /** Whether the current cycle probed for a second window already (held draws, `#lookAgain`). */
  #extended = false;
  /** Whether the current cycle's window was moved to its child's late spawn (`#fromSpawn`). */
  #movedToSpawn = false;
  /** How long the current cycle probes, s: tick × π, longer for draws probed apart (v86). */
  #cycleWindowS: number;
  /** Consecutive cycles in which no candidate answered. */
  #quietCycles = 0;
  /** Consecutive cycles in which some, but fewer than `numReflectors`, answered (v76). */
  #shortCycles = 0;
  /** The last selected set (sorted, space-separated), for logging a change only. */
  #lastSelected = "";
  /** Whether the cycle in progress was asked for (`requestReselect`), not due by the timer. */
  #cycleRequested = false;
  /**
   * Whether the cycle in progress answers a "too few fresh" request: later ones made while it
   * runs are folded into it (docs/algorithm.md §8.2).
   */
  #cycleTooFew = false;
  /** While suspended (idle mode: nothing is pinged) no cycle starts or ends. */
  #suspended = false;
  /** While nothing answers: no new cycle before this time (s). */
  #notBeforeS = -Infinity;
  /** While too few answer: the peers kept by the last short cycle (v82). */
  #kept: readonly string[] = [];
  /** While too few answer: the last short cycle's silent candidates, probed slowly (v82). */
  readonly #watch = new SilentWatch();
  /** The probe period of the last published set, s. */
  #periodS: number;
  /** The running cycle's last publication of its candidates, as the pinger got it. */
  #probing: { probed: readonly string[]; probes: PeerProbes } | undefined;
  /** Whether `hurryInitial` published its period. */
  #hurried = false;
  /** Called when a request arrives, so a runner can wake early. */
  onRequest?: () => void;

  /** See `SelectorOptions`. */
  constructor(options: SelectorOptions) {
    this.#o = options;
    this.#pool = options.pool;
    this.#settleS = options.tickS * Math.PI;
    this.#cycleWindowS = this.#settleS;
    this.#sleepS = options.initialSleepS ?? 30;
    this.#slowdownAfter = options.slowdownAfter ?? 40;
    this.#picks = options.randomPicks ?? 20;
    this.#periodS = options.tickS;
  }

  /** Replaces the pool (e.g. once the reflector list file is loaded). */
  setPool(pool: readonly string[]): void {
    this.#pool = pool;
  }

  /** Current phase. */
  get phase(): SelectorPhase {
    return this.#phase;
  }

  /** Completed-or-started reselection cycles so far. */
  get reselectionCount(): number {
    return this.#count;
  }

  /** Absolute time (s) at which `step` has work to do next (Infinity when stopped or suspended). */
  get nextWakeS(): number {
    if (this.#suspended) return Infinity;
    if (this.#phase === "idle") {
      return Math.min(
        Math.max(this.#pending ? -Infinity : this.#wakeAtS, this.#notBeforeS),
        this.#watch.nextCheckS,
      );
    }
    return this.#wakeAtS;
  }

  /** Consecutive reselection cycles in which no candidate answered. */
  get quietCycles(): number {
    return this.#quietCycles;
  }

  /** Starts at `nowS` with the initial settle wait (tick × π). */
  start(nowS: number): void {
    this.#phase = "settling";
    this.#wakeAtS = nowS + this.#settleS;
  }

  /** Stops; later requests are ignored. */
  stop(): void {
    this.#phase = "stopped";
    this.#wakeAtS = Infinity;
  }

  /**
   * Before the first reselection only, and once: publishes the current peers again with the probe
   * period `periodS` (the initial peers look faulty: `hurried_start.ts`). Returns whether it did.
   */
  hurryInitial(periodS: number): boolean {
    if (this.#count > 0 || this.#hurried || this.#phase === "stopped") return false;
    this.#hurried = true;
    this.#publish([...this.#o.owd.peers], "selected", { periodS });
    return true;
  }

  /**
   * Idle mode stops the pinger: no cycle may start or judge answers meanwhile (every one would
   * find no reflector answering). Requests wait for `resume`.
   */
  suspend(): void {
    this.#suspended = true;
  }

  /**
   * Pinging again at `nowS`: a cycle that was probing gets a fresh window for answers, and one
   * that fell due meanwhile starts one settle time (tick × π) after the pinger restarted.
   */
  resume(nowS: number): void {
    if (!this.#suspended) return;
    this.#suspended = false;
    if (this.#phase === "probing") {
      this.#cycleStartS = nowS;
      this.#wakeAtS = this.#cycleEndS(nowS);
    } else if (this.#phase === "idle") {
      this.#wakeAtS = Math.max(this.#wakeAtS, nowS + this.#settleS);
      this.#notBeforeS = Math.max(this.#notBeforeS, nowS + this.#settleS);
    }
  }

  /**
   * Asks for a reselection. Pending requests are coalesced into one cycle; a "too few fresh" one
   * (`tooFewFresh`) made while a cycle that answers one runs is folded into that cycle: it ranks
   * only the candidates that answered during it, and if too few are still fresh after its
   * selection the loop asks again a tick later (docs/algorithm.md §8.2). Other requests made
   * during a cycle (an outlier from the baseliner, which the ranking does not see) stay pending.
   * A "too few fresh" one during another cycle also publishes its candidates again
   * (`#publishAgain`).
   */
  requestReselect(reason: string, options: ReselectRequestOptions = {}): void {
    if (this.#phase === "stopped") return;
    const tooFew = options.tooFewFresh === true;
    if (tooFew && this.#phase === "probing" && this.#cycleTooFew) {
      log.debug("Reselect request folded into the running cycle ({reason})", { reason });
      // A peers' child kept at the cycle's start that hung since (`#publishAgain`).
      if (!this.#suspended) this.#o.onStillTooFew?.();
      return;
    }
    if (tooFew && this.#phase === "probing") this.#publishAgain();
    if (tooFew) this.#pendingTooFew = true;
    if (this.#pending) {
      this.#coalesced++;
      log.debug("Reselect request coalesced with a pending one ({reason})", { reason });
      return;
    }
    this.#pending = true;
    log.debug("Reflector reselection requested: {reason}", { reason });
    this.onRequest?.();
  }

  /** Does everything due at `nowS`; returns the next wake time (absolute s). */
  step(nowS: number): number {
    if (this.#suspended) return Infinity;
    for (let guard = 0; guard < 4; guard++) {
      if (this.#phase === "settling" && isDue(nowS, this.#wakeAtS)) {
        this.#phase = "idle";
        this.#wakeAtS = this.#wakeAtS + this.#sleepS;
      } else if (this.#phase === "idle" && isDue(nowS, this.#watch.nextCheckS)) {
        this.#checkWatched(nowS);
      } else if (
        this.#phase === "idle" && (this.#pending || isDue(nowS, this.#wakeAtS)) &&
        isDue(nowS, this.#notBeforeS)
      ) {
        this.#beginCycle(nowS);
      } else if (this.#phase === "probing" && isDue(nowS, this.#wakeAtS)) {
        this.#finishCycle(nowS);
      } else break;
    }
    return this.nextWakeS;
  }

  /** A watched candidate that answers ends the back-off: a cycle at once (v82). */
  #checkWatched(nowS: number): void {
    const recent = this.#o.owd.recent;
    const back = this.#watch.check(
      nowS,
      (ip) => recent.get(ip)?.last_receive_time_s ?? -Infinity,
    );
    if (back === undefined) return;
    log.info("Reflector {ip} answers again; reselecting", { ip: back });
    this.#pending = true;
    this.#notBeforeS = -Infinity;
  }

  /** Wait before the next cycle after the `k`-th cycle in a row without (enough) answers, s. */
  #backoffS(k: number): number {
    return Math.min(this.#o.maxQuietBackoffS ?? 300, (this.#o.quietBackoffS ?? 5) * 2 ** (k - 1));
  }

  #publish(
    peers: readonly string[],
    phase: "candidates" | "selected",
    o: { periodS?: number; slow?: SlowProbes; watched?: boolean } = {},
  ): void {
    this.#o.owd.peers = peers;
    this.#periodS = o.periodS ?? this.#o.tickS;
    // Watched candidates are probed but are no peers: none of their old records may count as a
    // peer's (the spread rule's sound peers, v82).
    const probed = o.watched && o.slow !== undefined ? [...peers, ...o.slow.reflectors] : peers;
    const probes = { periodS: this.#periodS, slow: o.slow };
    this.#probing = phase === "candidates" ? { probed, probes } : undefined;
    this.#o.onPeers?.(probed, phase, probes);
  }

  /**
   * The loop finds too few fresh during a cycle it did not ask for (the timer's, an outlier's):
   * its candidates are published again, unchanged, so that the pinger restarts a child silent for
   * the loop's window (its same-set path, src/measure/pinger.ts). A peers' child that hung within
   * a tick before the cycle began is kept through it (`SILENT_KEPT_TICKS`), its peers stale until
   * the selection replaced it; now for about 2 ticks. During a cycle the loop asked for, its
   * requests (folded into it) only ask the pinger to restart such a kept child that replied since
   * it started (`onStillTooFew`): one that hung within a tick of that cycle's start, or during it,
   * was kept to its end (until the twenty-fifth session), while an outage's children, silent since
   * their start, are left alone and logged as before (docs/operation.md, "Its helper processes").
   */
  #publishAgain(): void {
    const probing = this.#probing;
    if (probing === undefined || this.#suspended) return;
    this.#o.onPeers?.(probing.probed, "candidates", probing.probes);
  }

  #beginCycle(nowS: number): void {
    if (this.#pending && this.#coalesced > 0) {
      log.debug("Starting one reselection for {n} coalesced requests", { n: this.#coalesced + 1 });
    }
    this.#cycleRequested = this.#pending;
    this.#cycleTooFew = this.#pending && this.#pendingTooFew;
    this.#pending = false;
    this.#pendingTooFew = false;
    this.#coalesced = 0;
    this.#count++;
    if (this.#count > this.#slowdownAfter) this.#sleepS = this.#o.peerReselectionTimeMin * 60;
    // The watched candidates are candidates again (the one that answered among them).
    this.#candidates = buildCandidates(
      [...this.#o.owd.peers, ...this.#watch.watched],
      this.#pool,
      this.#picks,
      this.#o.random,
    );
    this.#held = [];
    this.#cyclePeers = this.#o.owd.peers;
    this.#freshAtStart = this.#freshPeers(nowS).length;
    this.#extended = false;
    this.#movedToSpawn = false;
    this.#cycleWindowS = this.#settleS;
    const watchPerS = this.#watch.perS;
    this.#watch.clear();
    const avoid = this.#o.avoid;
    if (avoid !== undefined) {
      const split = holdAvoidedDraws(this.#candidates, { peers: this.#o.owd.peers, avoid });
      this.#candidates = split.probe;
      this.#held = split.held;
    }
    log.debug("Reselection {n}: probing {c} candidates", {
      n: this.#count,
      c: this.#candidates.length,
    });
    if (this.#shortCycles > 0) {
      // A short pool's cycle: the kept peers keep their period, the new draws are probed apart
      // within the probe budget, the watch's probes until now counted (v82, `silent_watch.ts`;
      // `cycle_budget.ts`).
      const kept = new Set(this.#kept);
      const draws = this.#candidates.filter((ip) => !kept.has(ip));
      const apart = drawsApart(draws, {
        tickS: this.#o.tickS,
        otherPerS: kept.size / this.#periodS + watchPerS,
        otherChildren: watchPerS > 0 ? 2 : 1,
      });
      this.#cycleWindowS = apart.windowS;
      this.#publish([...this.#candidates], "candidates", {
        periodS: this.#periodS,
        slow: apart.slow,
      });
    } else this.#publishCandidates(nowS);
    this.#cycleStartS = nowS;
    this.#phase = "probing";
    this.#wakeAtS = this.#cycleEndS(nowS);
  }

  /**
   * After a cycle whose draws were probed apart (v86), or any publication that restarts the peers'
   * child of a slow-starting pinger: the new peers' last replies are up to a draw period old, and
   * fping restarts its child for the new set, the kept peers probed last after draws apart (oldest
   * reply first, `probe_order.ts`; after a cycle in one child its targets come in the order of
   * their last replies, kept or new), each up to a tick and the start delay after the switch, so
   * the control loop would find too few fresh and ask for a cycle at once. Each selected peer that
   * answered during the cycle counts as awaited, not missing, until it answers again or
   * `AWAITED_TICKS` and the pinger's start delay after the switch, counted from the hand-over when
   * that is longer (`#lateS`) (`owd.awaitedUntilS`; docs/algorithm.md §5); with a slow-starting
   * pinger (`SLOW_START_TICKS`) after every selection, and at a cycle's start the peers fresh then
   * (`#publishCandidates`); one that did not (a cycle in which nothing answered keeps the peers it
   * had) is missing as before: the outage it is part of goes on. Until the twenty-third session the
   * cycle's candidates also counted beside the new peers for 2 ticks: with this, they changed
   * nothing measured (docs/controllers.md, "v86, third").
   */
  #awaitPeers(nowS: number, answered: readonly string[]): void {
    const untilS = nowS + AWAITED_TICKS * this.#o.tickS + this.#lateS();
    const heard = new Set(answered);
    this.#o.owd.awaitedUntilS = new Map(
      this.#o.owd.peers.filter((ip) => heard.has(ip)).map((ip) => [ip, untilS]),
    );
  }

  /**
   * When a cycle whose candidates were published at `nowS` ends: its window, from when the
   * pinger's children start (`startDelayS`): each publication starts the candidates' children
   * anew, and a window counted from the spawn left a late start's last targets unprobed (fping
   * 0.8–1.2 s late, one child: 102–110 of 109–113 candidates answered; docs/algorithm.md §8).
   */
  #cycleEndS(nowS: number): number {
    return nowS + this.#cycleWindowS + (this.#o.startDelayS?.() ?? 0);
  }

  /** Whether the pinger's children start late enough that a restart leaves its peers stale. */
  #slowStart(): boolean {
    return this.#lateS() >= SLOW_START_TICKS * this.#o.tickS;
  }

  /**
   * How late a new set's child starts, s: from its spawn (`startDelayS`) or from the hand-over
   * (`handOverDelayS`), the later. On a starved machine the old child's end and reaping came
   * before the spawn: fping started at once after its spawn but 0.34–0.59 s (the longest of the
   * last 5) after the publication, and after 40 of 165 selections the selected peers were stale
   * before its first round and the loop asked for another cycle (docs/algorithm.md §8.3 step 5).
   */
  #lateS(): number {
    return Math.max(this.#o.startDelayS?.() ?? 0, this.#o.handOverDelayS?.() ?? 0);
  }

  /**
   * Publishes a cycle's candidates, within the 20 probes a second: more than fit at the tick
   * probe the new draws apart, and the cycle probes longer (v86, `cycle_budget.ts`).
   */
  #publishCandidates(nowS: number): void {
    const plan = cycleProbes(this.#candidates, {
      peers: this.#cyclePeers,
      tickS: this.#o.tickS,
    });
    this.#cycleWindowS = plan.windowS;
    this.#publish([...this.#candidates], "candidates", plan);
    // All of them in one child: fping restarts it, the peers first (the draws were never heard,
    // `probe_order.ts`), but none before the child's start (`#awaitPeers`).
    if (plan.slow === undefined && this.#slowStart()) {
      this.#awaitPeers(nowS, this.#freshPeers(nowS));
    }
  }

  /** The peers before the current cycle fresh at `nowS` (src/control/deltas.ts). */
  #freshPeers(nowS: number): string[] {
    const recent = this.#o.owd.recent;
    const freshS = freshWindowS(this.#o.tickS);
    return this.#cyclePeers.filter((ip) =>
      nowS - (recent.get(ip)?.last_receive_time_s ?? -Infinity) < freshS
    );
  }

  /**
   * A probing hiccup, not a loss (docs/algorithm.md §8.3 step 5; docs/operation.md, "When no
   * reflector answers"): fewer candidates answered during the cycle than the peers that were fresh
   * at its start (at most `numReflectors`). Their replies were late, not missing: a daemon or fping
   * starved on a busy machine for longer than the window (the testbed's log: the tick stopped for
   * 2.5 s, the cycle heard 1 of 6 and kept it alone). Such a cycle probes one window more, the
   * pinger's child left running, and then decides as before: a real loss is decided one window
   * later. Once a cycle (the held draws' second window counts).
   */
  #lookAgain(nowS: number, answered: number): boolean {
    if (this.#extended || answered >= Math.min(this.#o.numReflectors, this.#freshAtStart)) {
      return false;
    }
    this.#extended = true;
    log.debug(
      "Reselection {n}: {a} of {c} candidates answered, {f} peers were fresh at its start; " +
        "probing one window more",
      { n: this.#count, a: answered, c: this.#candidates.length, f: this.#freshAtStart },
    );
    this.#wakeAtS = this.#cycleEndS(nowS);
    return true;
  }

  /**
   * The window counted from the spawn of the pinger's child for the candidates, when that came
   * after their publication (docs/algorithm.md §8.3 step 2, with the figures): the switch itself
   * (the old child's end, reaped, then the spawn) took up to 1.7 s on a starved machine, and a
   * window counted from the publication ended before the new child's first round. Once a cycle;
   * `startDelayS` still counts from the spawn to the child's start.
   */
  #fromSpawn(nowS: number): boolean {
    if (this.#movedToSpawn) return false;
    const spawnedS = this.#o.spawnedS?.() ?? -Infinity;
    if (!(spawnedS > this.#cycleStartS)) return false;
    const endS = this.#cycleEndS(spawnedS);
    if (endS <= nowS) return false;
    this.#movedToSpawn = true;
    log.debug(
      "Reselection {n}: the pinger's child started {s} s after the candidates; probing on",
      {
        n: this.#count,
        s: Math.round((spawnedS - this.#cycleStartS) * 100) / 100,
      },
    );
    this.#wakeAtS = endS;
    return true;
  }

  #finishCycle(nowS: number): void {
    if (this.#fromSpawn(nowS)) return;
    const n = this.#o.numReflectors;
    const answered = this.#candidates.filter((ip) =>
      (this.#o.owd.recent.get(ip)?.last_receive_time_s ?? -Infinity) >= this.#cycleStartS
    );
    if (answered.length < n && this.#held.length > 0) {
      // Too few answered: the avoided draws held back are probed too before deciding (v72).
      this.#extended = true;
      this.#candidates.push(...this.#held);
      this.#held = [];
      log.debug("Reselection {n}: too few answered, probing {c} candidates", {
        n: this.#count,
        c: this.#candidates.length,
      });
      this.#publishCandidates(nowS);
      this.#wakeAtS = this.#cycleEndS(nowS);
      return;
    }
    if (this.#lookAgain(nowS, answered.length)) return;
    // Some but fewer than n answered (a short list with dead reflectors): exactly those are
    // kept, probed faster, and the next cycle waits (v76, `short_pool.ts`).
    const short = answered.length > 0 && answered.length < n;
    const periodS = short
      ? shortSetPeriodS(this.#o.tickS, { peers: answered.length, numReflectors: n })
      : this.#o.tickS;
    const eligible = answered.length >= n ? answered : this.#candidates;
    const avoid = this.#o.avoid;
    const sound = avoid === undefined ? eligible : eligible.filter((ip) => !avoid(ip));
    let ranked = short
      ? [...answered]
      : rankCandidates(sound.length >= n ? sound : eligible, this.#o.owd, 2 * n);
    let peers: string[];
    if (ranked.length === 0) {
      // Keep what was pinged before the cycle rather than pinging nothing.
      peers = this.#candidates.slice(0, Math.max(n, 1));
    } else {
      fisherYates(ranked, this.#o.random);
      if (this.#o.prefer !== undefined) ranked = soundFirst(ranked, this.#o.prefer);
      // Fewer candidates than n limit this cycle only.
      peers = short ? ranked : ranked.slice(0, Math.min(n, ranked.length));
    }
    let slow: SlowProbes | undefined;
    if (answered.length === 0) {
      // Nothing answers (an outage, a blocked path), whether or not these answered before it:
      // every new cycle would only restart the pinger, so back off.
      this.#quietCycles++;
      const waitS = this.#backoffS(this.#quietCycles);
      this.#notBeforeS = nowS + waitS;
      const values = { p: peers.join(" "), s: Math.round(waitS), n: this.#quietCycles };
      if (this.#quietCycles === 1) {
        log.warning(
          "No reflector answers; keeping {p}; reselecting again in {s} s at the earliest " +
            "(the wait doubles while nothing answers)",
          values,
        );
      } else {
        log.debug("Reselection {n} without answers; next in {s} s at the earliest", values);
      }
    } else {
      if (this.#quietCycles > 0) {
        log.info("Reflectors answer again after {n} reselections without answers", {
          n: this.#quietCycles,
        });
      }
      this.#quietCycles = 0;
      if (short) {
        this.#shortCycles++;
        const waitS = this.#backoffS(this.#shortCycles);
        this.#notBeforeS = nowS + waitS;
        this.#kept = peers;
        // Its silent candidates are probed slowly until the next cycle; the first that answers
        // starts it (v82).
        const got = new Set(answered);
        slow = this.#watch.begin(this.#candidates.filter((ip) => !got.has(ip)), nowS);
        const values = {
          k: peers.length,
          n,
          p: peers.join(" "),
          ms: Math.round(periodS * 1000),
          s: Math.round(waitS),
          w: slow?.reflectors.length ?? 0,
          ws: slow?.periodS ?? 0,
        };
        if (this.#shortCycles === 1) {
          log.warning(
            "Only {k} reflectors answer (num_reflectors {n}); keeping {p}, each probed every " +
              "{ms} ms; reselecting again in {s} s at the earliest (the wait doubles while too " +
              "few answer), or as soon as one of the {w} silent ones, probed every {ws} s, answers",
            values,
          );
        } else {
          log.debug(
            "Only {k} reflectors answer; next reselection in {s} s at the earliest",
            values,
          );
        }
      } else {
        if (this.#shortCycles > 0) {
          log.info("{n} reflectors answer again after {c} reselections with too few", {
            n: answered.length,
            c: this.#shortCycles,
          });
        }
        this.#shortCycles = 0;
        this.#notBeforeS = -Infinity;
        this.#kept = [];
      }
    }
    // The same set again (a pool no larger than it, an outage where the old ones rank first) is
    // no news: at INFO it would repeat every few seconds for as long as the outage lasts. Nor is
    // a timed reselection after the first: one INFO line every 30 s for the first 40
    // (docs/operation.md, "Logging"); a requested one answers a fault. A quiet cycle's set answered
    // nothing: its WARN (the first) or DEBUG line above says so, and an INFO "selected" for each
    // was about 16 lines an hour of a link down naming reflectors that do not answer.
    const key = [...peers].sort().join(" ");
    const selected = { p: peers.join(" ") };
    if (key === this.#lastSelected) log.debug("Selected the same reflectors again: {p}", selected);
    else if (answered.length === 0 || (this.#count > 1 && !this.#cycleRequested)) {
      log.debug("Selected reflectors: {p}", selected);
    } else log.info("Selected reflectors: {p}", selected);
    this.#lastSelected = key;
    this.#publish(peers, "selected", { periodS, slow, watched: true });
    // A short set is too few anyway, and its watched candidates must not count (v82).
    if (!short && (this.#cycleWindowS > this.#settleS || this.#slowStart())) {
      this.#awaitPeers(nowS, answered);
    }
    this.#phase = "idle";
    this.#wakeAtS = nowS + this.#sleepS;
  }
}

/** Timer functions, injectable for tests. */
export interface TimerApi {
  /** Like `setTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Like `clearTimeout`. */
  clearTimeout(id: unknown): void;
}

const realTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

/** Drives a `ReflectorSelector` with timers; requests wake it at once. */
export class SelectorRunner {
  readonly #selector: ReflectorSelector;
  readonly #now: () => number;
  readonly #timers: TimerApi;
  #timer: unknown;
  #running = false;

  /** `now` is the injected monotonic clock in seconds. */
  constructor(
    selector: ReflectorSelector,
    options: { now: () => number; timers?: TimerApi },
  ) {
    this.#selector = selector;
    this.#now = options.now;
    this.#timers = options.timers ?? realTimers;
  }

  /** Starts the selector and its timer. */
  start(): void {
    this.#running = true;
    this.#selector.onRequest = () => this.#arm(0);
    this.#selector.start(this.#now());
    this.#arm();
  }

  /** Idle mode: no timer, no cycle until `resume` (`ReflectorSelector.suspend`). */
  pause(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#selector.suspend();
  }

  /** Pinging again: the selector resumes now and the timer is armed again. */
  resume(): void {
    this.#selector.resume(this.#now());
    this.#arm();
  }

  /** Stops the timer and the selector. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#selector.onRequest = undefined;
    this.#selector.stop();
  }

  #arm(delayMs?: number): void {
    if (!this.#running) return;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    const wake = this.#selector.nextWakeS;
    const ms = delayMs ?? Math.max(0, (wake - this.#now()) * 1000);
    if (!Number.isFinite(ms)) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      try {
        this.#selector.step(this.#now());
      } catch (e) {
        log.error("Reflector selector failed: {e}", { e: String(e) });
      }
      this.#arm();
    }, ms);
  }
}
