/**
 * `Pinger`: runs a pinger tool for a set of reflectors and turns its output into replies stamped
 * with the injected monotonic clock. Changing the set restarts the child(ren) cleanly. Timestamp
 * pingers that stay silent fall back to echo mode.
 */
import { stageLogger } from "../log/mod.ts";
import type { Clock } from "../util/clock.ts";
import {
  type BindOptions,
  type CommandLine,
  fpingArgs,
  type FpingFeatures,
  pingArgs,
  tspingArgs,
} from "./backends.ts";
import {
  emptySkipCounts,
  lineWallTimeS,
  parserFor,
  ReplyDeduper,
  type SkipCounts,
} from "./parsers.ts";
import { probeOrder } from "./probe_order.ts";
import { ChildSupervisor, type Spawner } from "./supervisor.ts";
import { realSleep, type Sleep } from "../util/clock.ts";
import type { PingerTool, PingReply, ProbeMode, ProbePlan, SlowProbes } from "./types.ts";

/**
 * Longest wait of a reply line in the pipe that is corrected for (s): a blocked wait lasts at most
 * 1 s at a time (src/util/blocking_sleep.ts); an older printed time is a clock step.
 */
const MAX_LINE_AGE_S = 2;

const log = stageLogger("measure");

/** A running pinger. */
export interface Pinger {
  /** The tool in use. */
  readonly tool: PingerTool;
  /** Current probe mode (may change from timestamp to echo by fallback). */
  readonly mode: ProbeMode;
  /** Current reflectors. */
  readonly reflectors: readonly string[];
  /** Child processes started so far, where the pinger runs children. */
  readonly starts?: number;
  /**
   * How late its children start, s, where the pinger runs children: the longest of the last
   * {@linkcode START_DELAY_KEEP} times from a spawn to the child's start (`ProcessPinger`), at
   * most {@linkcode MAX_START_DELAY_S} (0 before any).
   */
  readonly startDelayS?: number;
  /**
   * How late the child for a new set starts after the set was given, s, where the pinger runs one
   * child for all (fping, tsping): the longest of the last {@linkcode START_DELAY_KEEP} times from
   * a `setReflectors` (or `start`) that replaced that child to its start, the old child's end and
   * reaping included, at most {@linkcode MAX_START_DELAY_S} (0 before any): awaited peers count
   * from the hand-over (src/reflectors/selector.ts, `#awaitPeers`).
   */
  readonly handOverDelayS?: number;
  /**
   * Whether a switch of children is under way (killed, the next not yet spawned), where the pinger
   * runs children: its steps need turns of the event loop (`ChildSupervisor.restarting`).
   */
  readonly switching?: boolean;
  /**
   * When the child probing the set at its period (fping's or tsping's one for all but a slow
   * group) was last spawned, monotonic s (-Infinity before any, and for `ping`): a reselection
   * cycle's window counts from it (src/reflectors/selector.ts, `#fromSpawn`).
   */
  readonly spawnedS?: number;
  /** Starts probing `reflectors`. */
  start(reflectors: readonly string[]): Promise<void>;
  /**
   * Replaces the reflector set (restarts the children; no-op when unchanged). `periodS`, the
   * probe period per reflector, defaults to the tick (a short set is probed faster:
   * `src/reflectors/short_pool.ts`).
   */
  setReflectors(reflectors: readonly string[], options?: ProbePlan): Promise<void>;
  /**
   * Restarts the child kept through the last new set (fping's or tsping's peers' child), where the
   * pinger runs one, if it replied since it started and then printed no reply for
   * {@linkcode SILENT_KEPT_TICKS}: the loop still finds too few fresh during a cycle that answers
   * it (`ProcessPinger.restartKeptSilent`).
   */
  restartKeptSilent?(): Promise<void>;
  /** Stops and reaps every child. */
  stop(): Promise<void>;
  /** Replies as an async iterable (ends on stop). */
  replies(): AsyncIterableIterator<PingReply>;
}

/** Options of `ProcessPinger`. */
export interface ProcessPingerOptions extends BindOptions {
  /** Which tool. */
  tool: PingerTool;
  /** Executable (default: the tool's name). */
  binary?: string;
  /** Requested mode; echo-only tools always use echo. Default "timestamp". */
  mode?: ProbeMode;
  /** Probe period per reflector, s (setting `tick_interval`). */
  tickS: number;
  /** fping features (from `choosePinger`). */
  fping?: FpingFeatures;
  /** Stamps replies; also used for the fallback watchdog. */
  clock: Clock;
  /** Receives every reply (in addition to `replies()`). */
  onReply?: (reply: PingReply) => void;
  /** Prepended to every command (e.g. `["ip", "netns", "exec", "ns1"]`). */
  commandPrefix?: readonly string[];
  /** Silence after which a timestamp pinger falls back to echo, s. Default 10. */
  fallbackAfterS?: number;
  /** Child spawner (tests). */
  spawn?: Spawner;
  /** Sleep (backoff, stagger, kill grace). */
  sleep?: Sleep;
  /** Supervisor tuning passed through (tests). */
  supervisor?: {
    initialBackoffMs?: number;
    maxBackoffMs?: number;
    killGraceMs?: number;
    maxAgeS?: number;
  };
}

/**
 * A pinger process is replaced by a fresh one after this long, s: fping 5.1 in loop mode grows by
 * about 13 bytes per probe while it runs (docs/footprint.md, "Helpers over months"), which a fixed
 * reflector list and a link that is never idle would let run for months.
 */
export const PINGER_MAX_AGE_S = 3600;

/**
 * A child without a reply for this many ticks is restarted when its reflectors are set again
 * unchanged: the control loop's window of fresh replies (src/control/deltas.ts).
 */
export const SILENT_RESTART_TICKS = 2;

/**
 * A child kept through a new set (the peers' child of a cycle that probes its new draws apart,
 * src/reflectors/cycle_budget.ts) that replied since it started and then printed no reply for this
 * many ticks is restarted with the set: in a tick each of its reflectors was probed once, so a live
 * child printed something unless all of them fell silent. The loop asks for the cycle once one of
 * them is `SILENT_RESTART_TICKS` stale, when the child's newest reply is at least a tick old: a
 * stopped child kept for the cycle (4–5 s with the embedded list) left its peers stale until the
 * selection replaced it. One that has not replied since it started is kept: started again it would
 * meet the same silence (an outage: each cycle would restart it twice; docs/operation.md, "Its
 * helper processes").
 */
export const SILENT_KEPT_TICKS = 1;

/**
 * Spawns whose time to the child's first line `startDelayS` remembers (the newest): a router's
 * process starts slow while it is loaded, not for good.
 */
export const START_DELAY_KEEP = 5;

/**
 * The longest start delay counted, s: a child that prints nothing for longer is silent, whether
 * it is still starting or hung (docs/operation.md, "Its helper processes").
 */
export const MAX_START_DELAY_S = 3;

/**
 * How long a child found silent is given before it is restarted, ms: the lines it printed while
 * the daemon's thread was blocked (the tick's wait, src/util/blocking_sleep.ts) wait in its pipe
 * until the event loop polls it, which a timer that fell due meanwhile (the selector's, at a
 * cycle's start) runs before. A timer not yet due (this wait) lets the runtime wait for I/O, which
 * returns at once with the ready pipe: read during this wait, they clear the silence; a child that
 * stays silent is restarted after it (docs/operation.md, "Its helper processes").
 */
export const SILENCE_CONFIRM_MS = 20;

/** The key of fping's or tsping's child for the slow group (`ProbePlan.slow`). */
const SLOW_KEY = "slow";

/** Whether `a` and `b` hold the same reflectors, in any order. */
export function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(b);
  return new Set(a).size === set.size && a.every((ip) => set.has(ip));
}

/** Whether two slow groups (`ProbePlan.slow`) are the same reflectors at the same period. */
export function sameSlow(a: SlowProbes | undefined, b: SlowProbes | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.periodS === b.periodS && sameMembers(a.reflectors, b.reflectors);
}

/** Pinger backed by child processes under `ChildSupervisor`s. */
export class ProcessPinger implements Pinger {
  readonly tool: PingerTool;
  readonly #o: ProcessPingerOptions;
  #mode: ProbeMode;
  #reflectors: string[] = [];
  /** Key: "*" (one child), `SLOW_KEY` (fping/tsping's slow group) or reflector (ping). */
  #sups = new Map<string, ChildSupervisor>();
  #starts = 0;
  readonly #dedup = new ReplyDeduper();
  #running = false;
  /** Probe period per reflector of the current set, s (the tick but for a short set). */
  #periodS: number;
  /** Reflectors of the set probed apart at a slower period (`ProbePlan.slow`). */
  #slow: SlowProbes | undefined;
  #lastActivityS = 0;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #warned = new Set<string>();
  /**
   * Per child (key of `#sups`): when it last printed a reply or started (monotonic s): its spawn,
   * then its first line (`ping`'s header, fping's first reply: `#begin`), when the tool runs.
   */
  #heardS = new Map<string, number>();
  /** Children (keys of `#sups`) that printed a line since they were last spawned. */
  readonly #begun = new Set<string>();
  /** When the child "*" was last spawned, monotonic s (`spawnedS`). */
  #mainSpawnedS = -Infinity;
  /** The last times from a spawn to the child's start, s (`startDelayS`). */
  readonly #startDelays: number[] = [];
  /** When the set that replaced child "*" was given and it has not started since (`#begin`). */
  #handOverS: number | undefined;
  /** The last times from a hand-over to the child's start, s (`handOverDelayS`). */
  readonly #handOverDelays: number[] = [];
  /**
   * fping's children (keys of `#sups`): their targets in the order they probe them, one
   * `intervalS` apart from the start (`fpingArgs`), for the start delay of a first reply.
   */
  readonly #probeSchedule = new Map<string, { targets: readonly string[]; intervalS: number }>();
  /** Children (keys of `#sups`) that printed a reply since they were last started. */
  readonly #replied = new Set<string>();
  /** The receive time of each current target's last reply (`probeOrder`). */
  readonly #lastReplyS = new Map<string, number>();
  /** Children whose silence was logged (WARN or DEBUG) since their last reply. */
  #silentWarned = new Set<string>();
  /**
   * When the silence WARN of this outage was logged (none while undefined). Like the exit
   * reasons below, it is logged once until a reply arrives: an uplink gone makes every `ping`
   * silent at once (docs/operation.md, "Its helper processes").
   */
  #silenceLogged: { sinceS: number } | undefined;
  /**
   * Exit reasons of any child logged at WARN since the last reply: a route that is gone makes
   * every `ping` (and every new one a reselection starts) exit the same way at once; it is
   * logged once per outage (docs/operation.md, "Its helper processes"). The outage ends with a
   * reply from a child that exited since its last one, or after every child was silent for
   * {@linkcode SILENT_RESTART_TICKS} ticks: live ones beside a `ping` that keeps failing (a slow
   * reflector without a route) are no news.
   */
  readonly #warnedExits = new Set<string>();
  /** Children (keys of `#sups`) that exited since their last reply. */
  readonly #exited = new Set<string>();
  /** When any child last printed a reply (monotonic s). */
  #anyReplyS = -Infinity;
  #queue: PingReply[] = [];
  #waiters: ((r: IteratorResult<PingReply>) => void)[] = [];
  /** Replies delivered so far. */
  replyCount = 0;
  /** Skipped lines by reason. */
  readonly skipped: SkipCounts = emptySkipCounts();

  /** See `ProcessPingerOptions`. */
  constructor(options: ProcessPingerOptions) {
    this.tool = options.tool;
    this.#o = options;
    this.#periodS = options.tickS;
    const wanted = options.mode ?? "timestamp";
    const canTimestamp = options.tool === "tsping" ||
      (options.tool === "fping" && options.fping?.icmpTimestamp === true);
    this.#mode = wanted === "timestamp" && canTimestamp ? "timestamp" : "echo";
    if (wanted === "timestamp" && !canTimestamp) {
      log.info("Pinger {tool} cannot send ICMP timestamps here; using echo (up = down = RTT/2)", {
        tool: options.tool,
      });
    }
  }

  /** Current probe mode. */
  get mode(): ProbeMode {
    return this.#mode;
  }

  /** Current reflectors. */
  get reflectors(): readonly string[] {
    return this.#reflectors;
  }

  /** Child processes started so far (the first ones, restarts after exits and new sets). */
  get starts(): number {
    return this.#starts;
  }

  /**
   * How late the children start, s: the longest of the last {@linkcode START_DELAY_KEEP} times
   * from a spawn to the child's start, seen by its first line (`#begin`), at most
   * {@linkcode MAX_START_DELAY_S}; 0 before any. docs/operation.md, "Its helper processes".
   */
  get startDelayS(): number {
    return longestDelay(this.#startDelays);
  }

  /**
   * How late the child for a new set starts after the set was given, s (`Pinger`): the longest
   * of the last {@linkcode START_DELAY_KEEP} times from the hand-over (`#applyChild` of child "*")
   * to its start (`#begin`), at most {@linkcode MAX_START_DELAY_S}; 0 before any. On a starved
   * machine ending and reaping the old child took 0.35–1.7 s before the spawn `startDelayS`
   * counts from (docs/operation.md, "Its helper processes").
   */
  get handOverDelayS(): number {
    return longestDelay(this.#handOverDelays);
  }

  /** When the child probing the set at its period was last spawned, monotonic s (`Pinger`). */
  get spawnedS(): number {
    return this.#mainSpawnedS;
  }

  /** Whether a child is being replaced (`ChildSupervisor.restarting`). */
  get switching(): boolean {
    // `ping`'s processes started spread over their period: the waits between them are timers.
    if (this.#spreading > 0) return true;
    // A silent child's pipe being read before it is restarted (`SILENCE_CONFIRM_MS`).
    if (this.#confirming > 0) return true;
    for (const s of this.#sups.values()) if (s.restarting) return true;
    return false;
  }

  /** Starts probing. */
  async start(reflectors: readonly string[]): Promise<void> {
    this.#running = true;
    this.#lastActivityS = this.#o.clock.monotonicS();
    const every = Math.max(1, (this.#o.fallbackAfterS ?? 10) * 100);
    if (this.#mode === "timestamp") {
      this.#watchdog = setInterval(() => this.checkFallback(), every);
    }
    await this.#apply([...reflectors], true);
  }

  /**
   * Replaces the reflector set; another `periodS` (default the tick) restarts the children even
   * for the same set (a short set is probed faster: `src/reflectors/short_pool.ts`). The
   * reflectors of `slow` are probed by children of their own at their period (fping and tsping:
   * one more child), so that a change of them leaves the others' children running.
   */
  async setReflectors(reflectors: readonly string[], options?: ProbePlan): Promise<void> {
    const periodS = options?.periodS ?? this.#o.tickS;
    const slow = options?.slow?.reflectors.length ? options.slow : undefined;
    const previous = { periodS: this.#periodS, slow: this.#slow };
    this.#periodS = periodS;
    this.#slow = slow;
    if (!this.#running) {
      this.#reflectors = [...reflectors];
      return;
    }
    await this.#apply([...reflectors], false, previous);
  }

  /**
   * Restarts the peers' child of fping or tsping (one for all the targets at the tick) if it
   * replied since it started and then printed no reply for {@linkcode SILENT_KEPT_TICKS}, as a new
   * set does (`#apply`). The selector calls it while the loop still finds too few fresh during a
   * cycle that answers such a request: the child was kept at the cycle's start (its newest reply
   * was less than a tick old), and a hang then left the peers stale until the selection, 4–5 s
   * with the embedded list. One that has not replied since it started is left alone, as at a new
   * set: in an outage a new one would meet the same silence (docs/operation.md, "Its helper
   * processes"). `ping`'s children are one per reflector: a silent one is a dead reflector, which
   * the cycle replaces.
   */
  async restartKeptSilent(): Promise<void> {
    if (!this.#running || !this.#replied.has("*")) return;
    await this.#restartSilent({ keys: ["*"], ticks: SILENT_KEPT_TICKS });
  }

  /** The probe period of `ip` under `plan`, s. */
  #periodOf(ip: string, plan: { periodS: number; slow?: SlowProbes }): number {
    return plan.slow?.reflectors.includes(ip) ? plan.slow.periodS : plan.periodS;
  }

  /** Stops everything and ends `replies()`. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    const sups = [...this.#sups.values()];
    this.#sups.clear();
    await Promise.all(sups.map((s) => s.stop()));
    for (const w of this.#waiters.splice(0)) w({ done: true, value: undefined });
  }

  /** Async iterator over replies (buffered; ends when stopped). */
  replies(): AsyncIterableIterator<PingReply> {
    this.#iterating = true;
    const next = (): Promise<IteratorResult<PingReply>> => {
      const r = this.#queue.shift();
      if (r) return Promise.resolve({ done: false, value: r });
      if (!this.#running) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => this.#waiters.push(resolve));
    };
    const done = (): Promise<IteratorResult<PingReply>> => {
      this.#iterating = false;
      this.#queue = [];
      return Promise.resolve({ done: true, value: undefined });
    };
    const it: AsyncIterableIterator<PingReply> = {
      [Symbol.asyncIterator]: () => it,
      next,
      return: done,
    };
    return it;
  }

  #iterating = false;
  /** `ping`: the period each reflector's child was started with, s. */
  readonly #childPeriodS = new Map<string, number>();
  /** `ping`: counts the sets applied; a newer one ends the spreading of an older one. */
  #spreadGeneration = 0;
  /** `ping`: groups whose processes are being started spread (`switching` while any). */
  #spreading = 0;
  /** Silence checks waiting for a silent child's pipe to be read (`switching` while any). */
  #confirming = 0;

  /**
   * Falls back from timestamps to echo when no reply arrived for `fallbackAfterS` since the
   * (re)start or the last reply. Called by a timer; public so tests can drive it.
   */
  checkFallback(nowS = this.#o.clock.monotonicS()): boolean {
    if (!this.#running || this.#mode !== "timestamp" || this.#reflectors.length === 0) {
      return false;
    }
    const limit = this.#o.fallbackAfterS ?? 10;
    if (nowS - this.#lastActivityS < limit) return false;
    log.warning(
      "No ICMP timestamp reply for {s} s from {tool}; falling back to echo (up = down = RTT/2)",
      { s: limit, tool: this.tool },
    );
    this.#mode = "echo";
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    void this.#restartAll();
    return true;
  }

  async #restartAll(): Promise<void> {
    this.#lastActivityS = this.#o.clock.monotonicS();
    await Promise.all([...this.#sups.values()].map((s) => s.restart()));
  }

  #warnUnsupported(cl: CommandLine): CommandLine {
    for (const u of cl.unsupported) {
      if (this.#warned.has(u)) continue;
      this.#warned.add(u);
      log.warning("Pinger {tool} does not support {u}; ignored", { tool: this.tool, u });
    }
    return cl;
  }

  #command(
    targets: readonly string[],
    child: { periodS: number; key: string },
  ): { cmd: string; args: string[] } {
    const o = this.#o;
    const periodS = child.periodS;
    const bind = { iface: o.iface, source: o.source, fwmark: o.fwmark, tickS: periodS };
    let cl: CommandLine;
    switch (this.tool) {
      case "fping": {
        const order = this.#probeOrder(targets);
        const intervalS = periodS / Math.max(1, order.length);
        this.#probeSchedule.set(child.key, { targets: order, intervalS });
        cl = fpingArgs(order, {
          ...bind,
          mode: this.#mode,
          features: o.fping ?? { icmpTimestamp: false, fwmark: false },
        });
        break;
      }
      case "tsping":
        cl = tspingArgs(this.#probeOrder(targets), { ...bind, mode: this.#mode });
        break;
      case "ping":
        cl = pingArgs(targets[0], bind);
        break;
    }
    this.#warnUnsupported(cl);
    const binary = o.binary || this.tool;
    const prefix = o.commandPrefix ?? [];
    if (prefix.length === 0) return { cmd: binary, args: cl.args };
    return { cmd: prefix[0], args: [...prefix.slice(1), binary, ...cl.args] };
  }

  /**
   * `targets` in the order a new child probes them: the oldest last reply first
   * (src/measure/probe_order.ts). Replies of reflectors no child probes are forgotten, so the map
   * stays as small as the set; not those of the other child's targets: a peers' child spawned
   * before they reply again orders them by these.
   */
  #probeOrder(targets: readonly string[]): string[] {
    const wanted = new Set(this.#reflectors);
    for (const ip of this.#lastReplyS.keys()) if (!wanted.has(ip)) this.#lastReplyS.delete(ip);
    return probeOrder(targets, this.#lastReplyS);
  }

  /**
   * How long ago the tool received the reply of `line` (s): its printed wall time against ours,
   * within [0, MAX_LINE_AGE_S]. The daemon may read its pinger's output in batches (the control
   * loop's thread can block between ticks, docs/footprint.md "CPU under load"): the receive time
   * is still the reply's own. A line without a time, or one from a clock that stepped, counts as
   * received now.
   */
  #lineAgeS(line: string): number {
    const printed = lineWallTimeS(line);
    if (printed === undefined) return 0;
    const age = this.#o.clock.wallMs() / 1000 - printed;
    return age > 0 && age <= MAX_LINE_AGE_S ? age : 0;
  }

  #onLine(line: string, child: string): void {
    const r = parserFor(this.tool, this.#mode)(line);
    this.#begin(child, { line, reply: r.kind === "reply" ? r.reply : undefined });
    if (r.kind === "skip") {
      this.skipped[r.reason]++;
      if (r.reason === "unknown") {
        log.debug("{tool}: skipped line {line}", { tool: this.tool, line });
      }
      return;
    }
    if (this.#dedup.isDuplicate(r.reply.reflector, r.reply.seq)) {
      this.skipped.duplicate++;
      return;
    }
    const now = this.#o.clock.monotonicS();
    this.#lastActivityS = now;
    const key = this.tool === "ping" ? r.reply.reflector : child;
    this.#heardS.set(key, now);
    this.#replied.add(key);
    const wasSilent = this.#silentWarned.delete(key);
    const exited = this.#exited.delete(key);
    if (exited || now - this.#anyReplyS >= SILENT_RESTART_TICKS * this.#o.tickS) {
      this.#warnedExits.clear();
    }
    this.#anyReplyS = now;
    if (this.#silenceLogged !== undefined) {
      // From a child that was silent too (an outage); live ones beside a dead reflector are no
      // news.
      if (wasSilent) {
        log.info("{tool} replies again after {s} s of silence", {
          tool: this.tool,
          s: Math.round((now - this.#silenceLogged.sinceS) * 10) / 10,
        });
      }
      this.#silenceLogged = undefined;
    }
    const reply: PingReply = { ...r.reply, receiveTimeS: now - this.#lineAgeS(line) };
    this.#lastReplyS.set(reply.reflector, reply.receiveTimeS);
    this.replyCount++;
    try {
      this.#o.onReply?.(reply);
    } catch (e) {
      log.error("Reply handler failed: {e}", { e: String(e) });
    }
    const w = this.#waiters.shift();
    if (w) w({ done: false, value: reply });
    else if (this.#iterating) {
      this.#queue.push(reply);
      if (this.#queue.length > 10_000) this.#queue.shift(); // a stalled consumer: keep the newest
    }
  }

  #supervisor(
    key: string,
    name: string,
    child: { targets: () => readonly string[]; periodS: () => number },
  ): ChildSupervisor {
    const o = this.#o;
    return new ChildSupervisor({
      name,
      command: () => this.#command(child.targets(), { periodS: child.periodS(), key }),
      onStdoutLine: (l) => this.#onLine(l, key),
      onSpawn: () => {
        this.#starts++;
        // Its sequence numbers start again: the last child's of its targets are no repeats (a
        // `ping` dropped and set again, a cycle's draw, would lose its first replies to them).
        // Every line of the last child of `key` was read before this spawn (`ChildSupervisor`).
        for (const ip of child.targets()) this.#dedup.forget(ip);
        this.#heardS.set(key, o.clock.monotonicS());
        if (key === "*") this.#mainSpawnedS = o.clock.monotonicS();
        this.#replied.delete(key);
        this.#begun.delete(key);
      },
      onExit: () => void this.#exited.add(key),
      spawn: o.spawn,
      sleep: o.sleep,
      now: () => o.clock.monotonicS(),
      // The fresh child's sequence numbers start again: forgotten at its spawn (`onSpawn`).
      maxAgeS: PINGER_MAX_AGE_S,
      warnedExits: this.#warnedExits,
      ...o.supervisor,
    });
  }

  /**
   * The first line of child `key` since its spawn: the tool runs. Its silence counts from now
   * (`#restartSilent`), and the time from the spawn to its start is a start delay
   * (`startDelayS`): to the line for `ping` (its header comes first), to the line less the reply's
   * place in the probe schedule and its round trip for fping, which prints nothing before a reply
   * (its first targets may be silent ones: a peer whose last reply is old is probed first,
   * `probe_order.ts`).
   */
  #begin(key: string, o: { line: string; reply?: Pick<PingReply, "reflector" | "rttMs"> }): void {
    if (this.#begun.has(key)) return;
    this.#begun.add(key);
    const now = this.#o.clock.monotonicS();
    const spawnedS = this.#heardS.get(key);
    this.#heardS.set(key, now);
    // fping's slow group is probed seconds apart (`ProbePlan.slow`): its start is not seen.
    if (spawnedS === undefined || key === SLOW_KEY) return;
    let startedS = now - this.#lineAgeS(o.line);
    const schedule = this.#probeSchedule.get(key);
    const place = o.reply === undefined ? -1 : schedule?.targets.indexOf(o.reply.reflector) ?? -1;
    if (o.reply !== undefined && schedule !== undefined && place >= 0) {
      startedS -= place * schedule.intervalS + o.reply.rttMs / 1000;
    }
    keepDelay(this.#startDelays, startedS - spawnedS);
    if (key === "*" && this.#handOverS !== undefined) {
      keepDelay(this.#handOverDelays, startedS - this.#handOverS);
      this.#handOverS = undefined;
    }
  }

  async #apply(
    next: string[],
    first: boolean,
    previous: { periodS: number; slow?: SlowProbes } = { periodS: this.#periodS, slow: this.#slow },
  ): Promise<void> {
    const current = { periodS: this.#periodS, slow: this.#slow };
    const newPeriod = previous.periodS !== current.periodS;
    const slowSame = sameSlow(previous.slow, current.slow);
    // Order does not matter to the tools: the same set at the same period needs no restart.
    const same = sameMembers(next, this.#reflectors);
    if (same && !first && !newPeriod && slowSame) {
      this.#reflectors = next;
      await this.#restartSilent();
      return;
    }
    const before = this.#reflectors;
    this.#reflectors = next;
    this.#lastActivityS = this.#o.clock.monotonicS();
    if (this.tool === "ping") return this.#applyPerReflector(next, { newSlow: !slowSame });
    const main = () => this.#reflectors.filter((ip) => !this.#slow?.reflectors.includes(ip));
    const mainBefore = before.filter((ip) => !previous.slow?.reflectors.includes(ip));
    const work: Promise<void>[] = [];
    if (first || newPeriod || !sameMembers(main(), mainBefore)) {
      work.push(this.#applyChild("*", { targets: main, periodS: () => this.#periodS }));
    } else if (this.#replied.has("*")) {
      work.push(this.#restartSilent({ keys: ["*"], ticks: SILENT_KEPT_TICKS }));
    }
    if (first || !slowSame) {
      work.push(this.#applyChild(SLOW_KEY, {
        targets: () => this.#slow?.reflectors ?? [],
        periodS: () => this.#slow?.periodS ?? this.#periodS,
      }));
    }
    await Promise.all(work);
  }

  /**
   * Drops the child `key` (a group of fping or tsping, a reflector of `ping`) and what is kept
   * per child, but for `#exited`: its stop's exit marks it there, so the caller clears it after.
   */
  #forgetChild(key: string): void {
    this.#sups.delete(key);
    this.#heardS.delete(key);
    this.#replied.delete(key);
    this.#begun.delete(key);
    this.#probeSchedule.delete(key);
    this.#silentWarned.delete(key);
    this.#childPeriodS.delete(key);
  }

  /** Starts, restarts or (without targets) stops the child `key` of fping or tsping. */
  async #applyChild(
    key: string,
    o: { targets: () => readonly string[]; periodS: () => number },
  ): Promise<void> {
    const sup = this.#sups.get(key);
    if (o.targets().length === 0) {
      this.#forgetChild(key);
      await sup?.stop();
      this.#exited.delete(key);
      return;
    }
    // A new set's child: its start counts from now too (`handOverDelayS`).
    if (key === "*") this.#handOverS = this.#o.clock.monotonicS();
    if (sup) await sup.restart();
    else {
      const s = this.#supervisor(key, key === SLOW_KEY ? `${this.tool} (slow)` : this.tool, o);
      this.#sups.set(key, s);
      s.start();
    }
  }

  /**
   * Restarts the children (`keys`, default all) that printed no reply for `ticks` ticks (default
   * {@linkcode SILENT_RESTART_TICKS}). The set given again unchanged means the selector found
   * nothing better (a pool no larger than the set); a child that is alive but silent (stopped,
   * stuck) would otherwise stay so for good, and one kept through a new set would stay so until
   * the next ({@linkcode SILENT_KEPT_TICKS}; docs/operation.md, "Its helper processes"). Silence
   * counts from the later of the child's last reply and its start: its first line, or before it
   * prints any, its spawn plus `startDelayS` (a router whose process starts take longer than the
   * loop's window restarted a starting fping at every second tick while too few were fresh, and
   * the cycle got no answers). A child found silent is restarted only if it still is once the
   * event loop has read its pipe ({@linkcode SILENCE_CONFIRM_MS}): at a cycle's start right after
   * the tick's blocked wait, a live fping's replies of that wait were still unread, and it was
   * restarted with a WARN and "replies again after 0 s of silence". Logged at
   * WARN once per outage: one line for the children newly silent, then DEBUG until a reply
   * arrives, and a child's silence only once until it replies.
   */
  async #restartSilent(o: { keys?: readonly string[]; ticks?: number } = {}): Promise<void> {
    const limitS = (o.ticks ?? SILENT_RESTART_TICKS) * this.#o.tickS;
    const suspects = this.#silentChildren(o.keys, limitS);
    if (suspects.length === 0) return;
    // Its lines may be waiting in the pipe (`SILENCE_CONFIRM_MS`): a turn of the event loop reads
    // them, and the tick's wait turns it meanwhile (`switching`).
    this.#confirming++;
    try {
      await (this.#o.sleep ?? realSleep)(SILENCE_CONFIRM_MS);
    } finally {
      this.#confirming--;
    }
    if (!this.#running) return;
    // Still silent, and still the same child (no new set replaced it meanwhile).
    const still = new Set(this.#silentChildren(o.keys, limitS).map(([, sup]) => sup));
    const silent = suspects.filter(([key, sup]) => still.has(sup) && this.#sups.get(key) === sup);
    if (silent.length === 0) return;
    const now = this.#o.clock.monotonicS();
    const fresh: string[] = [];
    for (const [key, sup] of silent) {
      const values = { name: key === "*" ? this.tool : `ping ${key}`, pid: sup.pid, s: limitS };
      if (sup.pid === undefined) {
        // Not running: it failed (its exit is logged) and waits out its backoff, which is cut
        // short so that it is back as soon as its reflector can be reached again.
        log.debug("{name} is waiting to be restarted after a failure; restarting it now", values);
        continue;
      }
      log.debug("{name} (pid {pid}) printed no reply for {s} s; restarting it", values);
      if (!this.#silentWarned.has(key)) fresh.push(values.name);
      this.#silentWarned.add(key);
    }
    // One WARN for the children newly silent, none more until a reply arrives.
    if (fresh.length > 0 && this.#silenceLogged === undefined) {
      this.#silenceLogged = { sinceS: now };
      log.warning("{names} printed no reply for {s} s; restarting", {
        names: fresh.join(", "),
        s: limitS,
      });
    }
    await Promise.all(silent.map(([, sup]) => sup.restart()));
  }

  /**
   * The children (`keys`, default all) without a reply for `limitS` now (`#restartSilent`).
   * Silence counts from the later of the child's last reply and its start: its first line, or
   * before it prints any, its spawn plus `startDelayS`.
   */
  #silentChildren(
    keys: readonly string[] | undefined,
    limitS: number,
  ): [string, ChildSupervisor][] {
    const now = this.#o.clock.monotonicS();
    // The slow group is probed because it was silent (`ProbePlan.slow`): no news.
    const expected = new Set([SLOW_KEY, ...(this.#slow?.reflectors ?? [])]);
    // A child that printed nothing since its spawn may still be starting: its silence counts
    // from when children start lately (`startDelayS`).
    const startS = this.startDelayS;
    return [...this.#sups].filter(([key]) =>
      (keys === undefined || keys.includes(key)) && !expected.has(key) &&
      now - (this.#heardS.get(key) ?? -Infinity) - (this.#begun.has(key) ? 0 : startS) >= limitS
    );
  }

  /**
   * `ping`: one process a reflector. The children of reflectors that left are stopped, and so are
   * kept ones whose period changed (left running until their new start, the old rate lingered
   * beside the new one: 23 in a 1 s window as a short pool's silent candidates went from the tick
   * to the watch's 3 s); new ones and those are started a group at a time, each group (the peers,
   * the slow group) spread evenly over its own period: started at once, a cycle's 20 draws sent
   * 20 requests within a second beside the peers' 12 (29 in a 1 s window, docs/controllers.md,
   * "v86, continued"); spread, a group sends as one fping child, which is how
   * `src/reflectors/cycle_budget.ts` counts it. A newer set ends the spreading of an older one,
   * which would start its remaining children alongside.
   */
  async #applyPerReflector(next: readonly string[], o: { newSlow: boolean }): Promise<void> {
    const generation = ++this.#spreadGeneration;
    const plan = { periodS: this.#periodS, slow: this.#slow };
    const keep = new Set(next);
    const stopping: Promise<void>[] = [];
    for (const [ip, s] of [...this.#sups]) {
      // A new slow group is started spread as a whole: members kept from the last one, at their
      // old phases beside the new spreading, sent 21 in a window on the wire.
      const changed = keep.has(ip) &&
        (this.#childPeriodS.get(ip) !== this.#periodOf(ip, plan) ||
          (o.newSlow && plan.slow?.reflectors.includes(ip) === true));
      if (!keep.has(ip) || changed) {
        this.#forgetChild(ip);
        stopping.push(s.stop().then(() => void this.#exited.delete(ip)));
      }
    }
    const groups = new Map<number, string[]>();
    for (const ip of next) {
      if (this.#sups.has(ip)) continue;
      const periodS = this.#periodOf(ip, plan);
      groups.set(periodS, [...(groups.get(periodS) ?? []), ip]);
    }
    await Promise.all([
      ...stopping,
      ...[...groups].map(([periodS, ips]) => this.#spread(ips, { periodS, generation })),
    ]);
  }

  /**
   * Starts the children of `ips`, one every `periodS / n` (cake-autorate staggers its pings over
   * one tick); a group slower than the tick from one such gap after the switch, as the children it
   * replaces would have sent next (at once, each group's first request came beside the old ones'
   * last second: 21 in a window at a cycle right after a selection); stops early when a newer set
   * is applied,
   * which starts the rest. Meanwhile the pinger is `switching`: the control loop's thread, blocked
   * between ticks otherwise, lets the waits between the starts end on time (without, one process
   * started a tick, and a cycle of 4.9 s started 11 of its 20 draws).
   */
  async #spread(ips: readonly string[], o: { periodS: number; generation: number }): Promise<void> {
    this.#spreading++;
    try {
      await this.#startSpread(ips, o);
    } finally {
      this.#spreading--;
    }
  }

  async #startSpread(
    ips: readonly string[],
    o: { periodS: number; generation: number },
  ): Promise<void> {
    const sleep = this.#o.sleep ?? realSleep;
    const gapMs = o.periodS * 1000 / Math.max(1, ips.length);
    for (let k = 0; k < ips.length; k++) {
      // The peers' group from the switch on: the loop awaits a new peer's first reply for 3 ticks
      // after it (`AWAITED_TICKS`, src/reflectors/selector.ts); a slower group a gap after it.
      if (k > 0 || o.periodS > this.#o.tickS) await sleep(gapMs);
      if (!this.#running || o.generation !== this.#spreadGeneration) break;
      const ip = ips[k];
      if (this.#sups.has(ip) || !this.#reflectors.includes(ip)) continue;
      const s = this.#supervisor(ip, `ping ${ip}`, {
        targets: () => [ip],
        // Recorded as each child is spawned (`start` spawns the first at once, before it returns).
        periodS: () => {
          const p = this.#periodOf(ip, { periodS: this.#periodS, slow: this.#slow });
          this.#childPeriodS.set(ip, p);
          return p;
        },
      });
      this.#sups.set(ip, s);
      s.start();
    }
  }
}

/** Adds a measured delay (at least 0) to `delays`, keeping the last {@linkcode START_DELAY_KEEP}. */
function keepDelay(delays: number[], s: number): void {
  delays.push(Math.max(0, s));
  if (delays.length > START_DELAY_KEEP) delays.shift();
}

/** The longest of `delays`, at most {@linkcode MAX_START_DELAY_S}; 0 when there is none. */
function longestDelay(delays: readonly number[]): number {
  return Math.min(MAX_START_DELAY_S, Math.max(0, ...delays));
}
