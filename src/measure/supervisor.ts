/**
 * A generic supervisor for one long-running child process: restarts it with exponential backoff
 * when it exits, reads stdout and stderr line by line (an unread pipe would block the child once
 * the 64 KiB pipe buffer fills), always reaps it, and kills it on stop (SIGTERM, then SIGKILL
 * after a grace period). Spawning, sleeping and the clock are injectable.
 */
import { stageLogger } from "../log/mod.ts";
import { realSleep, type Sleep } from "../util/clock.ts";
import { readLines } from "../util/line_reader.ts";

const log = stageLogger("measure");

/** Exit status of a child. */
export interface ChildStatus {
  /** Exit code (128 + n after signal n, as Deno reports). */
  code: number;
  /** The signal that ended it, if any. */
  signal: string | null;
}

/** The parts of a running child the supervisor uses. */
export interface ChildHandle {
  /** Process id. */
  readonly pid: number;
  /** Standard output. */
  readonly stdout: ReadableStream<Uint8Array>;
  /** Standard error. */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Resolves when the child has exited and been reaped. */
  readonly status: Promise<ChildStatus>;
  /** Sends a signal (no-op when it already exited). */
  kill(signal: Deno.Signal): void;
}

/** Starts a child; throws (e.g. `Deno.errors.NotFound`) when it cannot. */
export type Spawner = (cmd: string, args: readonly string[]) => ChildHandle;

/**
 * Spawns with `Deno.Command`: stdin closed, stdout and stderr piped, in a session of its own so
 * that only the daemon gets a signal sent to its process group (src/util/coprocess.ts).
 */
export const denoSpawner: Spawner = (cmd, args) => {
  const child = new Deno.Command(cmd, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  return {
    pid: child.pid,
    stdout: child.stdout,
    stderr: child.stderr,
    status: child.status.then((s) => ({ code: s.code, signal: s.signal })),
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
    },
  };
};

/** Longest line kept; longer input is cut into pieces (garbage anyway). */
const MAX_LINE = 65_536;

/** Reads a byte stream and calls `onLine` for every line (without the line end). */
export async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const emit = (line: string) => {
    try {
      onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
    } catch (e) {
      log.error("Line handler failed: {e}", { e: String(e) });
    }
  };
  const end = await readLines(stream, emit, { maxLine: MAX_LINE });
  if (end.error !== undefined) log.debug("Stream ended with {e}", { e: String(end.error) });
  if (end.rest !== "") emit(end.rest);
}

/** Options of a `ChildSupervisor`. */
export interface SupervisorOptions {
  /** Name for log lines, e.g. "fping". */
  name: string;
  /** The command line, asked again before every (re)start so changes apply. */
  command: () => { cmd: string; args: readonly string[] };
  /** Every stdout line. */
  onStdoutLine: (line: string) => void;
  /** Every stderr line; default: DEBUG (the last lines also go into the exit warning). */
  onStderrLine?: (line: string) => void;
  /** Called after each successful spawn. */
  onSpawn?: (pid: number) => void;
  /** Called after each exit (before any backoff). */
  onExit?: (status: ChildStatus) => void;
  /** Default `denoSpawner`. */
  spawn?: Spawner;
  /** Default `realSleep`. */
  sleep?: Sleep;
  /** Monotonic seconds; default `performance.now()/1000`. */
  now?: () => number;
  /** First restart delay, ms. Default 1000. */
  initialBackoffMs?: number;
  /** Longest restart delay, ms. Default 30 000. */
  maxBackoffMs?: number;
  /** A child that ran this long resets the backoff, s. Default 30. */
  healthyAfterS?: number;
  /** Time between SIGTERM and SIGKILL on stop, ms. Default 1000. */
  killGraceMs?: number;
  /**
   * A child that has run this long is replaced by a fresh one, as `restart()` does (no backoff);
   * for tools whose memory grows while they run. Default: never.
   */
  maxAgeS?: number;
  /**
   * Exit reasons already logged at WARN: the same reason again is logged at DEBUG (a child that
   * keeps failing the same way, e.g. `ping: connect: Network is unreachable` while a route is
   * gone). Cleared when a child ran `healthyAfterS`; may be shared by several supervisors and
   * cleared by their owner; the last {@linkcode WARNED_EXITS_KEEP} are kept. Default: this
   * supervisor's own.
   */
  warnedExits?: Set<string>;
}

/** Restart delays `ChildSupervisor.backoffHistory` keeps (the newest). */
export const BACKOFF_HISTORY_KEEP = 32;

/**
 * Exit reasons remembered as logged (`SupervisorOptions.warnedExits`): the most recent. A reason
 * carries the child's last stderr lines, so a child failing with a different message each time
 * would otherwise add one for as long as it fails (docs/footprint.md, "Long runs").
 */
export const WARNED_EXITS_KEEP = 32;

/** Keeps one child running until stopped. */
export class ChildSupervisor {
  readonly #o: SupervisorOptions;
  readonly #spawn: Spawner;
  readonly #sleep: Sleep;
  readonly #now: () => number;
  #child: ChildHandle | undefined;
  /** Kills under way, by child. */
  readonly #killing = new WeakMap<ChildHandle, Promise<void>>();
  #loop: Promise<void> | undefined;
  #stopped = false;
  #abort = new AbortController();
  #restartNow = false;
  /** A restart asked for and its next spawn not yet tried (`restarting`). */
  #restarting = false;
  #backoffMs: number;
  /** Exit reasons logged at WARN (`SupervisorOptions.warnedExits`). */
  readonly #warned: Set<string>;
  #spawns = 0;
  /** Why the child last stopped, with its last stderr lines (diagnostics). */
  lastExitReason: string | undefined;
  /**
   * The last restart delays, ms (for tests and diagnostics): at most `BACKOFF_HISTORY_KEEP`, as a
   * child failing every 30 s for months would otherwise add one number per restart
   * (docs/footprint.md, "Long runs").
   */
  readonly backoffHistory: number[] = [];

  /** See `SupervisorOptions`. */
  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#spawn = options.spawn ?? denoSpawner;
    this.#sleep = options.sleep ?? realSleep;
    this.#now = options.now ?? (() => performance.now() / 1000);
    this.#backoffMs = options.initialBackoffMs ?? 1000;
    this.#warned = options.warnedExits ?? new Set();
  }

  /** Number of successful spawns so far. */
  get spawns(): number {
    return this.#spawns;
  }

  /** Pid of the running child, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Whether a restart is under way: from `restart()` until the next child is spawned (or its spawn
   * failed, or the supervisor stopped). Each step between (the old child's exit, the end of its
   * streams, the spawn) waits for a turn of the event loop, so a caller whose thread may block
   * lets it turn meanwhile (docs/footprint.md, "Nineteenth session: a pinger switch within its
   * tick").
   */
  get restarting(): boolean {
    return this.#restarting;
  }

  /** Starts the supervision loop (idempotent). */
  start(): void {
    if (this.#loop) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  /** Kills the current child; the loop starts a new one at once (no backoff). */
  async restart(): Promise<void> {
    if (!this.#loop || this.#stopped) return;
    this.#restarting = true;
    this.#restartNow = true;
    this.#abort.abort(); // cut a pending backoff sleep short
    const child = this.#child;
    if (child) await this.#kill(child);
  }

  /** Stops: no more restarts; kills and reaps the child. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#restarting = false;
    this.#abort.abort();
    const child = this.#child;
    if (child) await this.#kill(child);
    await this.#loop;
    this.#loop = undefined;
  }

  /**
   * Ends `child` (SIGTERM, SIGKILL after the grace); a kill already under way is joined, so a
   * child that hangs gets one SIGKILL and one warning however many restarts ask meanwhile.
   */
  #kill(child: ChildHandle): Promise<void> {
    let killing = this.#killing.get(child);
    if (killing === undefined) {
      killing = this.#killOnce(child);
      this.#killing.set(child, killing);
    }
    return killing;
  }

  async #killOnce(child: ChildHandle): Promise<void> {
    child.kill("SIGTERM");
    const grace = new AbortController();
    const exited = await Promise.race([
      child.status.then(() => true, () => true),
      this.#sleep(this.#o.killGraceMs ?? 1000, grace.signal).then(() => false),
    ]);
    grace.abort();
    if (!exited) {
      log.warning("{name} (pid {pid}) ignored SIGTERM; sending SIGKILL", {
        name: this.#o.name,
        pid: child.pid,
      });
      child.kill("SIGKILL");
    }
    await child.status.catch(() => undefined);
  }

  /** Restarts `child` once it has run `maxAgeS`, unless the returned controller aborts first. */
  #renewWhenAged(child: ChildHandle): AbortController {
    const aged = new AbortController();
    const maxAgeS = this.#o.maxAgeS;
    if (maxAgeS === undefined) return aged;
    void this.#sleep(maxAgeS * 1000, aged.signal).then(() => {
      if (aged.signal.aborted || this.#child !== child) return;
      log.debug("Replacing {name} (pid {pid}) after {s} s", {
        name: this.#o.name,
        pid: child.pid,
        s: maxAgeS,
      });
      return this.restart();
    });
    return aged;
  }

  async #run(): Promise<void> {
    const initial = this.#o.initialBackoffMs ?? 1000;
    const max = this.#o.maxBackoffMs ?? 30_000;
    const healthy = this.#o.healthyAfterS ?? 30;
    const handler = this.#o.onStderrLine ??
      ((line: string) => {
        if (line.trim() !== "") log.debug("{name}: {line}", { name: this.#o.name, line });
      });
    // The last stderr lines go into the exit warning, so the reason is visible at WARN level
    // while per-line stderr (e.g. an ICMP error per probe) stays at DEBUG.
    let tail: string[] = [];
    const onErr = (line: string) => {
      if (line.trim() !== "") tail = [...tail.slice(-2), line.trim()];
      handler(line);
    };
    while (!this.#stopped) {
      if (this.#abort.signal.aborted) this.#abort = new AbortController();
      this.#restartNow = false;
      tail = [];
      const { cmd, args } = this.#o.command();
      let child: ChildHandle | undefined;
      const startedAt = this.#now();
      let reason: string;
      try {
        child = this.#spawn(cmd, args);
      } catch (e) {
        reason = `could not be started (${(e as Error).message})`;
      }
      this.#restarting = false;
      if (child) {
        this.#child = child;
        this.#spawns++;
        log.debug("Started {name} (pid {pid}): {cmd} {args}", {
          name: this.#o.name,
          pid: child.pid,
          cmd,
          args: args.join(" "),
        });
        this.#o.onSpawn?.(child.pid);
        const aged = this.#renewWhenAged(child);
        const pumps = Promise.all([
          pumpLines(child.stdout, this.#o.onStdoutLine),
          pumpLines(child.stderr, onErr),
        ]);
        let status: ChildStatus;
        try {
          status = await child.status;
        } catch (e) {
          status = { code: -1, signal: String(e) };
        }
        aged.abort();
        await pumps;
        this.#child = undefined;
        this.#o.onExit?.(status);
        reason = status.signal
          ? `was ended by ${status.signal}`
          : `exited with code ${status.code}`;
        if (tail.length > 0) reason += ` (stderr: ${tail.join(" | ")})`;
      }
      this.lastExitReason = reason!;
      if (this.#stopped) break;
      const ranHealthy = this.#now() - startedAt >= healthy;
      if (ranHealthy) this.#warned.clear(); // a fault after a healthy run is news again
      if (this.#restartNow) continue; // a deliberate restart (new targets): no backoff
      if (ranHealthy) this.#backoffMs = initial;
      const delay = this.#backoffMs;
      this.backoffHistory.push(delay);
      if (this.backoffHistory.length > BACKOFF_HISTORY_KEEP) this.backoffHistory.shift();
      // A child that keeps failing the same way (e.g. `ping: connect: Network is unreachable`
      // for as long as a route is gone) is logged at WARN once, until one runs healthy.
      const values = { name: this.#o.name, reason: reason!, s: delay / 1000 };
      const message = "{name} {reason}; restarting in {s} s";
      if (this.#warned.has(reason!)) log.debug(message, values);
      else log.warning(message, values);
      // The most recent last (a Set iterates in insertion order): the oldest goes first.
      this.#warned.delete(reason!);
      this.#warned.add(reason!);
      if (this.#warned.size > WARNED_EXITS_KEEP) {
        this.#warned.delete(this.#warned.values().next().value!);
      }
      this.#backoffMs = Math.min(max, this.#backoffMs * 2);
      await this.#sleep(delay, this.#abort.signal);
    }
  }
}
