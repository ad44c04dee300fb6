/**
 * Long-lived line-oriented helper processes (`ip -batch -`, `tc -batch -`): one process answers
 * many requests written to its stdin, so the daemon spawns nothing per tick. A
 * {@linkcode LineCoprocess} is one running process with its output split into lines; a
 * {@linkcode CoprocessSupervisor} owns the current one and restarts it after a failure with a
 * growing delay (design: docs/footprint.md).
 */
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import { readLines } from "./line_reader.ts";
import { RearmableTimeout, type TimeoutTimers } from "./rearmable_timeout.ts";
import { settledWithin } from "./settled_within.ts";

/** The part of a spawned child a coprocess uses (a `Deno.ChildProcess` is one). */
export interface SpawnedProcess {
  /** Process id. */
  readonly pid: number;
  /** Its standard input. */
  readonly stdin: WritableStream<Uint8Array>;
  /** Its standard output. */
  readonly stdout: ReadableStream<Uint8Array>;
  /** Its standard error. */
  readonly stderr: ReadableStream<Uint8Array>;
  /** Resolves when it has exited. */
  readonly status: Promise<unknown>;
  /** Sends a signal. */
  kill(signal?: Deno.Signal): void;
}

/** Starts `argv[0]` with the arguments `argv[1…]`, all three standard streams piped. */
export type ProcessSpawner = (argv: readonly string[]) => SpawnedProcess;

/**
 * The real spawner. The child runs in a session of its own (`detached`, setsid): Ctrl-C in a
 * terminal and a signal to the daemon's process group reach the daemon alone, which stops its
 * helpers itself after setting the exit rate through them (docs/operation.md, "Signals").
 */
export const denoSpawner: ProcessSpawner = (argv) =>
  new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();

/** Which output stream. */
export type OutputStream = "stdout" | "stderr";

/** What `nextLine` got: a line, `null` when the process's output ended, or a timeout. */
export type LineResult = string | null | "timeout";

/**
 * iproute2's report of batch line N that failed (`tc`, `ip` with `-force`), on stderr after the
 * command's own message; `-` is the name of standard input.
 */
export const BATCH_FAILED_LINE = /^Command failed \S*:(\d+)\s*$/;

/** Ends a `nextLine` wait with what it got. */
type Waiter = (result: LineResult) => void;

const encoder = new TextEncoder();

/** Options of {@linkcode LineCoprocess.start}. */
export interface LineCoprocessOptions {
  /** Spawner (default: Deno.Command). */
  spawn?: ProcessSpawner;
  /** Lines of a stream given here go to the callback instead of being queued for `nextLine`. */
  onLine?: Partial<Record<OutputStream, (line: string) => void>>;
  /** Timers of the `nextLine` timeouts (tests). */
  timers?: TimeoutTimers;
}

/** One running helper process whose output is read line by line. */
export class LineCoprocess {
  /** The process. */
  readonly child: SpawnedProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #queued: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
  readonly #waiter: Record<OutputStream, Waiter | undefined> = {
    stdout: undefined,
    stderr: undefined,
  };
  readonly #ended: Record<OutputStream, boolean> = { stdout: false, stderr: false };
  /** Each stream's `nextLine` timeout: one timer restarted per wait (rearmable_timeout.ts). */
  readonly #timeout: Record<OutputStream, RearmableTimeout>;
  readonly #done: Promise<void>;
  #dead = false;

  private constructor(child: SpawnedProcess, options: LineCoprocessOptions) {
    this.child = child;
    this.#writer = child.stdin.getWriter();
    const timeout = (stream: OutputStream) =>
      new RearmableTimeout(() => this.cancelWait(stream), { timers: options.timers });
    this.#timeout = { stdout: timeout("stdout"), stderr: timeout("stderr") };
    const pumps = (["stdout", "stderr"] as const).map((name) =>
      this.#pump(name, child[name], options.onLine?.[name])
    );
    this.#done = Promise.all([...pumps, child.status.catch(() => {})]).then(() => {
      this.#dead = true;
      this.#timeout.stdout.dispose();
      this.#timeout.stderr.dispose();
      // Our end of its stdin, once it is gone by itself: an owner that only sees `dead` (as
      // `CoprocessSupervisor.acquire()` does) would otherwise keep one pipe fd per helper that
      // died (docs/operation.md, "Months of faults: the soak").
      void this.#writer.close().catch(() => {});
    });
  }

  /** Spawns `argv`; throws what the spawner throws (e.g. the binary does not exist). */
  static start(argv: readonly string[], options: LineCoprocessOptions = {}): LineCoprocess {
    return new LineCoprocess((options.spawn ?? denoSpawner)(argv), options);
  }

  /** True once the process has exited or was killed. */
  get dead(): boolean {
    return this.#dead;
  }

  /**
   * Writes `data` (text, or its UTF-8 bytes: a request sent every tick is encoded once by its
   * owner) to its stdin; rejects when the process no longer reads it.
   */
  write(data: string | Uint8Array): Promise<void> {
    // The writer's own promise: no async frame of its own (a write per counter reading and per
    // rate change; docs/footprint.md, "Fourteenth session").
    return this.#writer.write(typeof data === "string" ? encoder.encode(data) : data);
  }

  /**
   * The next line of `stream` (queued lines first), `null` at its end, or "timeout" after
   * `timeoutMs` to twice that (src/util/rearmable_timeout.ts).
   */
  nextLine(stream: OutputStream, timeoutMs: number): Promise<LineResult> {
    const queued = this.#queued[stream].shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#ended[stream]) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#waiter[stream] = resolve;
      this.#timeout[stream].start(timeoutMs);
    });
  }

  /**
   * Ends a `nextLine` wait on `stream` at once, as if it had timed out (a caller that learnt from
   * the other stream that no line will come); without a wait, nothing happens.
   */
  cancelWait(stream: OutputStream): void {
    const w = this.#waiter[stream];
    this.#waiter[stream] = undefined;
    this.#timeout[stream].stop();
    w?.("timeout");
  }

  /** Kills it (SIGKILL) and waits until it is reaped. */
  async kill(): Promise<void> {
    this.#dead = true;
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#writer.close().catch(() => {});
    await this.#done;
  }

  /** Closes its stdin (a batch tool then exits) and waits; kills it after `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    await this.#writer.close().catch(() => {});
    if (!(await settledWithin(this.#done, timeoutMs))) await this.kill();
  }

  #deliver(stream: OutputStream, line: string | null): void {
    const w = this.#waiter[stream];
    this.#waiter[stream] = undefined;
    if (w !== undefined) {
      this.#timeout[stream].stop();
      w(line);
    } else if (line !== null) this.#queued[stream].push(line);
  }

  async #pump(
    stream: OutputStream,
    source: ReadableStream<Uint8Array>,
    onLine: ((line: string) => void) | undefined,
  ): Promise<void> {
    // A broken stream (process killed) counts as its end; an unterminated rest is no answer.
    await readLines(source, onLine ?? ((line: string) => this.#deliver(stream, line)));
    this.#ended[stream] = true;
    this.#deliver(stream, null);
  }
}

/** Options of {@linkcode CoprocessSupervisor}. */
export interface CoprocessSupervisorOptions extends LineCoprocessOptions {
  /** Clock for the restart delays (default: the system clock). */
  clock?: Clock;
  /** First restart delay after a failure, s (default 1); doubles per failure in a row. */
  minBackoffS?: number;
  /** Longest restart delay, s (default 60). */
  maxBackoffS?: number;
  /**
   * Count each restart delay from the failed process's start instead of its failure: a process
   * that already spent the delay trying (an ssh dialling again and again) is replaced at once,
   * one that failed fast still waits (default false).
   */
  delayFromStart?: boolean;
  /**
   * Told when a process cannot be started (the spawner threw). `repeated`: the last start failed
   * with the same error and none started since, so the caller logs it once per fault, not at
   * every restart delay (a `tc` or `ip` missing for a month would otherwise log a line a minute:
   * docs/operation.md, "Months of faults: the twenty-eighth session's walk").
   */
  onStartError?: (error: unknown, repeated: boolean) => void;
}

/**
 * Keeps at most one {@linkcode LineCoprocess} of `argv` running. A failed process is killed and
 * a new one is started on demand, at once after the first failure and then after delays that
 * double (1 s, 2 s, 4 s … 60 s) until one works again (`succeeded()` resets the delay).
 */
export class CoprocessSupervisor {
  readonly #argv: readonly string[];
  readonly #options: CoprocessSupervisorOptions;
  readonly #clock: Clock;
  #proc: LineCoprocess | undefined;
  #failures = 0;
  #notBeforeS = -Infinity;
  #starts = 0;
  /** Monotonic s when the current (or last) process was started. */
  #startedS = -Infinity;
  /** The last start's error while no process has started since (`onStartError`'s `repeated`). */
  #startError: string | undefined;

  /** Supervises `argv`; nothing starts before the first `acquire()`. */
  constructor(argv: readonly string[], options: CoprocessSupervisorOptions = {}) {
    this.#argv = [...argv];
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** How many processes were started (the first included). */
  get starts(): number {
    return this.#starts;
  }

  /** The running process, if any (tests). */
  get current(): LineCoprocess | undefined {
    return this.#proc?.dead === false ? this.#proc : undefined;
  }

  /** The running process, a new one if none runs and no restart delay is pending, else none. */
  acquire(): LineCoprocess | undefined {
    if (this.#proc !== undefined && !this.#proc.dead) return this.#proc;
    if (this.#proc !== undefined) this.#noteFailure();
    this.#proc = undefined;
    if (this.#clock.monotonicS() < this.#notBeforeS) return undefined;
    try {
      this.#starts++;
      this.#startedS = this.#clock.monotonicS();
      this.#proc = LineCoprocess.start(this.#argv, this.#options);
    } catch (e) {
      const error = String(e);
      const repeated = this.#startError === error;
      this.#startError = error;
      this.#options.onStartError?.(e, repeated);
      this.#noteFailure();
      return undefined;
    }
    this.#startError = undefined;
    return this.#proc;
  }

  /** The process answered properly: the next failure restarts at once again. */
  succeeded(): void {
    this.#failures = 0;
    this.#notBeforeS = -Infinity;
  }

  /** The process misbehaved (no answer, broken pipe): kills it; the restart waits its delay. */
  async fail(proc: LineCoprocess): Promise<void> {
    if (this.#proc === proc) {
      this.#proc = undefined;
      this.#noteFailure();
    }
    await proc.kill();
  }

  /**
   * Ends a process that works but should be replaced (EOF, SIGKILL after `timeoutMs`): not a
   * failure, so the next `acquire()` starts a new one at once.
   */
  async retire(proc: LineCoprocess, timeoutMs: number): Promise<void> {
    if (this.#proc === proc) this.#proc = undefined;
    await proc.close(timeoutMs);
  }

  /** Stops the process (EOF, then SIGKILL after `timeoutMs`). */
  async close(timeoutMs: number): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    this.#notBeforeS = Infinity;
    await proc?.close(timeoutMs);
  }

  #noteFailure(): void {
    const min = this.#options.minBackoffS ?? 1;
    const max = this.#options.maxBackoffS ?? 60;
    // First failure: restart at once (a process killed from outside, OOM); then back off.
    const delay = this.#failures === 0 ? 0 : Math.min(max, min * 2 ** (this.#failures - 1));
    this.#failures++;
    const from = this.#options.delayFromStart ? this.#startedS : this.#clock.monotonicS();
    this.#notBeforeS = from + delay;
  }
}
