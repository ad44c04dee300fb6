/**
 * Rate changes through one long-lived `tc -force -batch -` per daemon instead of one `tc` process
 * per change (docs/footprint.md). Each change is one written line. tc reports nothing for a
 * line that worked and `Command failed -:N` (after its message) for line N that did not, on
 * stderr; so every change line is followed by a marker line that always fails, and the marker's
 * report, in order on the same stream, says that the change line is done and whether it failed.
 * Changes asked together (a tick's download and upload) are written in one write and answered
 * each by its own marker: over ssh one round trip for both (docs/remote.md, "A slow management
 * link").
 * While the coprocess cannot be started, or after it died or stopped answering (it is restarted
 * with a growing delay), changes run as one spawned `tc` each. tc keeps about 4 kB per change it
 * made for as long as it runs (docs/footprint.md, "Helpers over months"), so a coprocess is
 * replaced by a fresh one after a number of changes. A change given to a coprocess that was then
 * abandoned may still land after a newer one (docs/remote.md, "Start-up and faults"), so the
 * last change of every target is made once more a while later.
 * The coprocess runs with `-j`, so a query (`qdisc show`) asked through it answers one JSON line on
 * stdout before its marker's report: why a change failed is asked in the session that refused it,
 * with no process or ssh connection of its own (docs/remote.md, "A root qdisc replaced on the
 * router").
 */
import type { Logger } from "../log/logger.ts";
import type { Clock } from "../util/clock.ts";
import type { NotTriedReason } from "../control/ports.ts";
import { type CommandResult, type CommandRunner, defaultCommandRunner } from "../util/command.ts";
import {
  BATCH_FAILED_LINE,
  CoprocessSupervisor,
  type LineCoprocess,
  type ProcessSpawner,
} from "../util/coprocess.ts";
import { realTimeoutTimers, type TimeoutTimers } from "../util/rearmable_timeout.ts";
import { settledWithin } from "../util/settled_within.ts";

/** Options of {@linkcode TcBatch}. */
export interface TcBatchOptions {
  /**
   * The tc command without the batch arguments (default `["tc"]`), e.g. `["tc", "-n", "ns"]`,
   * or `["ssh", "router", "tc"]` for a tc on another host: the coprocess runs
   * `COMMAND -force -batch -`, a fallback change `COMMAND ARGS…`.
   */
  command?: readonly string[];
  /** Starts the coprocess (default: Deno.Command). */
  spawn?: ProcessSpawner;
  /** Runs a fallback change (default: Deno.Command with a 5 s timeout). */
  runner?: CommandRunner;
  /** Clock of the restart delays (default: the system clock). */
  clock?: Clock;
  /** Wait for tc to finish one line, ms, at most twice that (default 2000). */
  timeoutMs?: number;
  /**
   * The same wait for the first line of a new coprocess (default `timeoutMs`): through ssh it
   * includes the connection.
   */
  firstAnswerTimeoutMs?: number;
  /** Where coprocess trouble is logged. */
  logger?: Logger;
  /**
   * Changes one coprocess makes before a fresh one replaces it (default
   * {@linkcode TC_CHANGES_PER_PROCESS}).
   */
  changesPerProcess?: number;
  /**
   * Delay from abandoning a coprocess with a change in flight to making the last change of every
   * target once more, ms (default three times `timeoutMs`).
   */
  reapplyAfterMs?: number;
  /** Timers of that re-apply (default: the real ones; tests). */
  reapplyTimers?: TimeoutTimers;
  /**
   * How long `close()` lets changes still queued finish, ms (default
   * {@linkcode TC_CLOSE_GRACE_MS}); then it kills the coprocess and gives them up.
   */
  closeGraceMs?: number;
  /**
   * While it returns true (remote mode: the router's counter session gets no answer), changes
   * are not tried: each resolves at once as not made (no session, no spawned tc), and
   * `resume()` makes the last change of every target (default: never).
   */
  deferWhile?: () => boolean;
  /**
   * With it, `resume()` starts a fresh coprocess at once (its first line a marker, no change),
   * and until that one answers, changes are made through this instead (remote mode: the counter
   * session that just answered, while the `tc -batch` session's ssh connects); `undefined` from
   * it for a change: that change waits for the coprocess (docs/operation.md, "A router that
   * stays away"). It is given the changes asked together (a tick's download and upload) at once,
   * to make in one round trip, and answers a verdict for each (docs/remote.md, "A slow
   * management link"). Default: none.
   */
  whileConnecting?: (
    changes: readonly (readonly string[])[],
  ) => Promise<(CommandResult | undefined)[]>;
}

/**
 * `close()`'s wait for changes still queued (the exit rate, which the daemon already gave its
 * budget): after it, a tc or router that does not answer is given up (docs/remote.md).
 */
export const TC_CLOSE_GRACE_MS = 1000;

/**
 * Changes per local `tc -batch` process: tc 6.1 keeps about 4 kB per `qdisc change` or `class
 * change` until it exits (its netlink answer buffer), so this bounds its growth to about 0.4 MB;
 * a new tc every 100 changes (every 20 s or more under load) costs about 2.5 ms of CPU, the
 * daemon's and tc's (docs/footprint.md, "Helpers over months", "Twenty-fifth session").
 */
export const TC_CHANGES_PER_PROCESS = 100;

/**
 * The same through ssh (remote mode, docs/remote.md): a fresh session is an ssh handshake, so the
 * router's tc is let grow to about 2 MB first.
 */
export const TC_CHANGES_PER_SSH_SESSION = 500;

/** The line after each change: an unknown tc object, so tc always reports it as failed. */
export const TC_SYNC_LINE = "sqma-sync";
/** The verdict of a change given up by `close()`. */
const GIVEN_UP: CommandResult = { code: 1, stdout: "", stderr: "given up: the daemon is stopping" };

/** A query not answered through the coprocess (the caller asks otherwise). */
const NOT_ASKED: CommandResult = {
  code: 1,
  stdout: "",
  stderr: "not asked in the tc -batch session",
};

/** Stdout lines kept for queries: tc prints none for changes, one per query. */
const OUT_LINES_KEPT = 16;

/** The verdict of a change not tried while `deferWhile` holds. */
const DEFERRED: CommandResult = {
  code: 1,
  stdout: "",
  stderr: "not tried while the router does not answer: made once it answers again",
};

/**
 * Why a change was given up by `close()` ("stopping") or not tried while `deferWhile` holds
 * ("router-away"): nothing is known about the shaper then, so it is no reason to query it.
 * Undefined for a change tc answered.
 */
export function notTried(result: CommandResult): NotTriedReason | undefined {
  return result === GIVEN_UP ? "stopping" : result === DEFERRED ? "router-away" : undefined;
}

/** Characters tc's batch parser would treat specially (quotes, comments) or split on. */
const UNSAFE_ARG = /[\s"'#\\]/;

/**
 * A change's failure from a coprocess whose cached index of the device is stale (the device was
 * deleted and created again); a fresh tc says "Cannot find device" for one that is gone.
 */
const STALE_DEVICE = /No such device/i;

/** Options of {@linkcode TcBatch.query}. */
export interface QueryOptions {
  /**
   * Whether a stdout line is this query's answer, for a query that may print nothing (`class show`
   * of a deleted class) asked just before one that always answers: a line that is not is the next
   * query's (tc answers in order), so this one printed nothing, known at once instead of after
   * the wait for its line (docs/operation.md, "Another program changes the rate").
   */
  isAnswer?: (line: string) => boolean;
}

/** One change asked of `run()` (or query of `query()`), waiting for its turn. */
interface Job {
  args: readonly string[];
  /** A query: its stdout line is its answer, and it is no change to make again. */
  query: boolean;
  /** A query's {@linkcode QueryOptions.isAnswer}. */
  isAnswer?: (line: string) => boolean;
  /** The give-up signal in force when it was asked. */
  giveUp: AbortSignal;
  resolve: (r: CommandResult) => void;
  reject: (e: unknown) => void;
}

/** tc commands through a supervised `tc -force -batch -` coprocess, spawning as the fallback. */
export class TcBatch {
  readonly #command: readonly string[];
  /** Changes asked and not yet taken: those waiting together are written together. */
  #pending: Job[] = [];
  readonly #runner: CommandRunner;
  readonly #timeoutMs: number;
  readonly #logger?: Logger;
  readonly #supervisor: CoprocessSupervisor;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #firstAnswerTimeoutMs: number;
  /** The coprocess that has confirmed a change (later lines get the shorter wait). */
  #answeredBy: LineCoprocess | undefined;
  /** The process the line numbers count for, and the last line number written to it. */
  #lineOf: LineCoprocess | undefined;
  #line = 0;
  #fallbacks = 0;
  #degraded = false;
  readonly #changesPerProcess: number;
  /** The replaced coprocess's exit, awaited by `close()`. */
  #retiring: Promise<void> = Promise.resolve();
  /** The last change of every target (object, device, class), for the re-apply. */
  readonly #latest = new Map<string, readonly string[]>();
  readonly #reapplyAfterMs: number;
  readonly #timers: TimeoutTimers;
  /** The pending re-apply's timer. */
  #reapplyTimer: unknown;
  #closed = false;
  /** Set when `close()` gave up on changes still unanswered: the rest fail at once. */
  #abandoned = false;
  readonly #closeGraceMs: number;
  readonly #deferWhile: () => boolean;
  /** A change was not tried (`deferWhile`): `resume()` makes the last ones. */
  #owed = false;
  /** Set by `stopping()`: the exit rate is tried whatever `deferWhile` says. */
  #stopping = false;
  /** Aborted to give up the change running now (`stopping()`, `close()`). */
  #giveUp = this.#giveUpController();
  /** The coprocess whose answer a change waits for, and that change's give-up signal. */
  #waiting: { proc: LineCoprocess; giveUp: AbortSignal } | undefined;
  readonly #whileConnecting?: TcBatchOptions["whileConnecting"];
  /** A coprocess started by `resume()` whose first answer is awaited, and that wait. */
  #connecting: { proc: LineCoprocess; done: Promise<void> } | undefined;
  /** The coprocess's stdout lines not yet taken by a query (a few at most). */
  readonly #out: string[] = [];
  /** A query waiting for its stdout line. */
  #outWaiter: ((line: string | "timeout") => void) | undefined;
  /**
   * False once a query's answer did not come on stdout from a tc that never answered one: its
   * batch mode answers no query, later ones are not asked here.
   */
  #queriesAnswer = true;
  /** A tc session has answered a query on stdout: one printing nothing is that query's doing. */
  #queriesAnswered = false;
  /**
   * The query the last silent one was (a session replaced for it), until one is answered: the
   * same query silent twice in a row in fresh sessions is this tc's, and queries end here.
   */
  #silentQuery: string | undefined;

  /** Creates the batch; the coprocess starts with the first change. */
  constructor(options: TcBatchOptions = {}) {
    this.#command = [...(options.command ?? ["tc"])];
    this.#runner = options.runner ?? defaultCommandRunner;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#firstAnswerTimeoutMs = options.firstAnswerTimeoutMs ?? this.#timeoutMs;
    this.#logger = options.logger;
    this.#changesPerProcess = options.changesPerProcess ?? TC_CHANGES_PER_PROCESS;
    this.#reapplyAfterMs = options.reapplyAfterMs ?? 3 * this.#timeoutMs;
    this.#timers = options.reapplyTimers ?? realTimeoutTimers;
    this.#closeGraceMs = options.closeGraceMs ?? TC_CLOSE_GRACE_MS;
    this.#deferWhile = options.deferWhile ?? (() => false);
    this.#whileConnecting = options.whileConnecting;
    this.#supervisor = new CoprocessSupervisor([...this.#command, "-j", "-force", "-batch", "-"], {
      spawn: options.spawn,
      clock: options.clock,
      // tc prints nothing on stdout for changes, one line for a query; drained so it can never
      // block.
      onLine: { stdout: (line) => this.#stdoutLine(line) },
      // Once per fault: the same failure again (`tc` still missing) at DEBUG, until one starts.
      onStartError: (e, repeated) =>
        this.#logger?.[repeated ? "debug" : "warn"]("cannot start {tc} -batch: {error}", {
          tc: this.#command.join(" "),
          error: String(e),
        }),
    });
  }

  /** Changes that ran as a spawned tc because the coprocess was unavailable. */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  /** Coprocesses started so far. */
  get starts(): number {
    return this.#supervisor.starts;
  }

  /** Runs `tc ARGS…` (one change); resolves with tc's verdict and message, never rejects. */
  run(args: readonly string[]): Promise<CommandResult> {
    this.#latest.set(targetOf(args), args);
    // Given up by a `stopping()` or `close()` that comes after it, not by an earlier one.
    const giveUp = this.#giveUp.signal;
    const result = new Promise<CommandResult>((resolve, reject) =>
      this.#pending.push({ args, query: false, giveUp, resolve, reject })
    );
    // Each change's turn takes every change asked by then (a later turn may find none left).
    this.#queue = this.#queue.then(() => this.#runPending()).catch(() => {});
    return result;
  }

  /**
   * Asks `tc -j ARGS…` (a `qdisc show`) through the coprocess, in turn with the changes: its JSON
   * line as `stdout`. Undefined when it was not answered there: no coprocess that has answered is
   * running (none started for a query), one is connecting, the router does not answer or the
   * daemon stops, or tc failed it (the caller asks a tc of its own, whose message is the fresh
   * one). Queries asked together go in one write.
   */
  query(args: readonly string[], options: QueryOptions = {}): Promise<CommandResult | undefined> {
    const giveUp = this.#giveUp.signal;
    const { isAnswer } = options;
    const result = new Promise<CommandResult>((resolve, reject) =>
      this.#pending.push({ args, query: true, isAnswer, giveUp, resolve, reject })
    ).then((r) => r === NOT_ASKED ? undefined : r);
    this.#queue = this.#queue.then(() => this.#runPending()).catch(() => {});
    return result;
  }

  /**
   * Makes the changes waiting now: those asked under the same give-up signal as the first (a
   * change asked after `stopping()` is not given up with one asked before) go together.
   */
  async #runPending(): Promise<void> {
    const first = this.#pending[0];
    if (first === undefined) return;
    let n = 1;
    const together = (j: Job) => j.giveUp === first.giveUp && j.query === first.query;
    while (n < this.#pending.length && together(this.#pending[n])) n++;
    const jobs = this.#pending.splice(0, n);
    try {
      const results = first.query
        ? await this.#queries(jobs, first.giveUp)
        : jobs.length === 1
        ? [await this.#runOnce(first.args, first.giveUp)]
        : await this.#runTogether(jobs.map((j) => j.args), first.giveUp);
      jobs.forEach((j, i) => j.resolve(results[i]));
    } catch (e) {
      for (const j of jobs) j.reject(e);
    }
  }

  /**
   * The router answers again (after `deferWhile` held): the last change of every target is made
   * now, if one was not tried meanwhile; with `whileConnecting`, a fresh coprocess is started
   * first and these changes, and any until it answers, go through `whileConnecting`.
   */
  resume(): void {
    if (!this.#owed || this.#closed) return;
    this.#owed = false;
    this.#logger?.debug("making the last change of {n} tc targets now", { n: this.#latest.size });
    if (this.#whileConnecting !== undefined) this.#connect();
    for (const args of this.#latest.values()) void this.run(args);
  }

  /**
   * Starts the coprocess ahead of any change (unless the one running has answered, or the
   * restart delay holds): its first line is the marker alone, and its answer makes it the one
   * changes go to.
   */
  #connect(): void {
    if (this.#connecting !== undefined) return;
    const proc = this.#supervisor.acquire();
    // Not one that has answered, nor one a change was written to (its line numbers are taken).
    if (proc === undefined || proc === this.#answeredBy || proc === this.#lineOf) return;
    this.#lineOf = proc;
    this.#line = 1;
    const done = (async () => {
      try {
        await proc.write(`${TC_SYNC_LINE}\n`);
        for (;;) {
          const line = await proc.nextLine("stderr", this.#firstAnswerTimeoutMs);
          if (line === "timeout" || line === null) break;
          if (BATCH_FAILED_LINE.exec(line)?.[1] === "1") {
            this.#answeredBy = proc;
            return;
          }
        }
      } catch {
        // Not writable: failed below.
      }
      if (this.#closed) return;
      this.#logger?.debug("the tc -batch session did not answer its first line");
      await this.#supervisor.fail(proc);
    })().finally(() => {
      this.#connecting = undefined;
      // Logged once changes go to it (tests await it).
      if (this.#answeredBy === proc) this.#logger?.debug("the new tc -batch session answers");
    });
    this.#connecting = { proc, done };
  }
  /**
   * The daemon is stopping: a change still running after `closeGraceMs` (an unanswered line, a
   * spawned tc or `ssh … tc` that hangs) is given up, its process killed, so that the exit rate
   * does not wait for it; the next changes (the exit rate) are tried whatever `deferWhile` says.
   * docs/operation.md, "Stopping while the router does not answer".
   */
  stopping(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#giveUpAfterGrace();
  }

  /**
   * Ends the coprocess (EOF, SIGKILL after the timeout); a pending re-apply is dropped. Changes
   * still queued get `closeGraceMs`; then the coprocess, or the spawned tc running, is killed and
   * they fail without a fallback, so a router that stopped answering cannot hold the daemon's
   * exit.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelReapply();
    if (!(await this.#giveUpAfterGrace())) {
      const proc = this.#supervisor.current;
      if (proc !== undefined) await this.#supervisor.fail(proc);
    }
    await this.#queue;
    await this.#retiring;
    await this.#supervisor.close(this.#timeoutMs);
    await this.#connecting?.done;
  }

  async #runOnce(
    args: readonly string[],
    giveUp: AbortSignal,
    options: { again?: boolean; notMadeWhileConnecting?: boolean } = {},
  ): Promise<CommandResult> {
    if (this.#abandoned || giveUp.aborted) return GIVEN_UP;
    if (this.#deferred()) return DEFERRED;
    if (!batchable(args)) return await this.#spawnOne(args, giveUp);
    const connecting = this.#connecting;
    if (connecting !== undefined) {
      if (!options.notMadeWhileConnecting) {
        const [r] = await this.#whileConnecting!([args]);
        if (r !== undefined) return r;
      }
      const givenUp = abortion(giveUp);
      await Promise.race([connecting.done, givenUp.promise]);
      givenUp.dispose();
      if (giveUp.aborted) return GIVEN_UP;
    }
    const proc = this.#supervisor.acquire();
    if (proc === undefined) return await this.#spawnOne(args, giveUp);
    const [verdict] = await this.#viaBatch(proc, [args], giveUp);
    return await this.#settle({ proc, args, verdict, giveUp }, options);
  }

  /**
   * Several changes in one write to the coprocess, each answered by its own marker; each verdict
   * is its own (one that failed or went unanswered is not the others'). While a fresh session
   * connects they go to `whileConnecting` together, in one round trip too; those it did not make
   * wait for the session as `run()`'s would. When they cannot go through the coprocess together
   * (it is not running, an argument it cannot take), they are made one after the other as
   * `run()` would.
   */
  async #runTogether(
    changes: readonly (readonly string[])[],
    giveUp: AbortSignal,
  ): Promise<CommandResult[]> {
    if (this.#abandoned || giveUp.aborted) return changes.map(() => GIVEN_UP);
    if (this.#deferred()) return changes.map(() => DEFERRED);
    const results: CommandResult[] = [];
    if (this.#connecting !== undefined && changes.every(batchable)) {
      const made = await this.#whileConnecting!(changes);
      for (const [i, args] of changes.entries()) {
        const r = made[i];
        results.push(
          r ?? await this.#runOnce(args, giveUp, { notMadeWhileConnecting: true }),
        );
      }
      return results;
    }
    const proc = this.#connecting === undefined && changes.every(batchable)
      ? this.#supervisor.acquire()
      : undefined;
    if (proc === undefined) {
      for (const args of changes) results.push(await this.#runOnce(args, giveUp));
      return results;
    }
    const verdicts = await this.#viaBatch(proc, changes, giveUp);
    for (const [i, args] of changes.entries()) {
      results.push(await this.#settle({ proc, args, verdict: verdicts[i], giveUp }));
    }
    return results;
  }

  /**
   * Queries in one write to the coprocess that has answered (none is started for them), each
   * answered by its stdout line and its marker; `NOT_ASKED` for each that got no answer there.
   */
  async #queries(jobs: readonly Job[], giveUp: AbortSignal): Promise<CommandResult[]> {
    const queries = jobs.map((j) => j.args);
    const notAsked = () => queries.map(() => NOT_ASKED);
    const proc = this.#supervisor.current;
    if (
      proc === undefined || proc.dead || proc !== this.#answeredBy || !this.#queriesAnswer ||
      this.#connecting !== undefined || this.#abandoned || this.#stopping || giveUp.aborted ||
      this.#deferWhile() || !queries.every(batchable)
    ) return notAsked();
    this.#out.length = 0;
    const verdicts = await this.#viaBatch(proc, queries, giveUp, {
      answers: jobs.map((j) => j.isAnswer ?? (() => true)),
    });
    if (verdicts.some((v) => v !== "broken")) this.#supervisor.succeeded();
    return verdicts.map((v) => v === "broken" || v.code !== 0 || v.stdout === "" ? NOT_ASKED : v);
  }

  /** A line of the coprocess's stdout: a query's answer. */
  #stdoutLine(line: string): void {
    const waiter = this.#outWaiter;
    this.#outWaiter = undefined;
    if (waiter !== undefined) waiter(line);
    else if (this.#out.length < OUT_LINES_KEPT) this.#out.push(line);
  }

  /** The next stdout line, or "timeout" after `timeoutMs`. */
  #nextStdout(timeoutMs: number): Promise<string | "timeout"> {
    const line = this.#out.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => {
      const timer = realTimeoutTimers.setTimeout(() => {
        this.#outWaiter = undefined;
        resolve("timeout");
      }, timeoutMs);
      this.#outWaiter = (l) => {
        realTimeoutTimers.clearTimeout(timer);
        resolve(l);
      };
    });
  }

  /**
   * What the coprocess's verdict on one change makes of it: unanswered (`broken`), the change is
   * spawned instead; a stale device index, made again by a fresh coprocess.
   */
  async #settle(
    c: {
      proc: LineCoprocess;
      args: readonly string[];
      verdict: CommandResult | "broken";
      giveUp: AbortSignal;
    },
    options: { again?: boolean } = {},
  ): Promise<CommandResult> {
    const { proc, args, verdict, giveUp } = c;
    if (verdict === "broken") {
      if (this.#abandoned || giveUp.aborted) return GIVEN_UP;
      // The router went away meanwhile (its counter session noticed first): no `ssh … tc`.
      if (this.#deferred()) return DEFERRED;
      return await this.#spawnOne(args, giveUp);
    }
    this.#supervisor.succeeded();
    if (this.#degraded) {
      this.#degraded = false;
      this.#logger?.info("tc -batch coprocess running again");
    }
    if (verdict.code !== 0 && STALE_DEVICE.test(verdict.stderr) && !options.again) {
      // tc looks a device up by name once and keeps its index: one deleted and created again
      // (sqm-scripts' IFB, pppoe-wan) is "No such device" to this coprocess for good, while a
      // fresh tc finds it (or says "Cannot find device" when it is really gone).
      this.#logger?.info("tc answered {error} (link gone or re-created): replacing the coprocess", {
        error: JSON.stringify(verdict.stderr.trim()),
      });
      this.#retire(proc);
      return await this.#runOnce(args, giveUp, { again: true });
    }
    // Two lines per change (the change and its marker).
    if (this.#lineOf === proc && this.#line >= 2 * this.#changesPerProcess) this.#retire(proc);
    return verdict;
  }

  /**
   * Replaces a working coprocess: the next change starts a new one; `close()` awaits its end.
   * With `whileConnecting`, the new one is started now, its first line the marker alone, and the
   * changes until it answers go through `whileConnecting`: no tick waits for its connection
   * (remote mode: an ssh handshake every `changesPerProcess` changes; docs/remote.md, "A slow
   * management link").
   */
  #retire(proc: LineCoprocess): void {
    // Once (several changes of one write may each ask).
    if (this.#supervisor.current !== proc) return;
    const retired = this.#supervisor.retire(proc, this.#timeoutMs);
    this.#retiring = Promise.all([this.#retiring, retired]).then(() => {});
    if (this.#whileConnecting !== undefined && !this.#closed) this.#connect();
  }

  /**
   * Writes the changes, each followed by the marker, in one write, and reads their answers in
   * order: a verdict for each, `broken` for those left unanswered when the coprocess stopped
   * answering, exited or was given up (the verdicts before stay: those changes were made).
   */
  async #viaBatch(
    proc: LineCoprocess,
    changes: readonly (readonly string[])[],
    giveUp: AbortSignal,
    options: { answers?: readonly ((line: string) => boolean)[] } = {},
  ): Promise<(CommandResult | "broken")[]> {
    if (this.#lineOf !== proc) {
      this.#lineOf = proc;
      this.#line = 0;
    }
    // Two lines per change: the change, then its marker.
    const first = this.#line;
    this.#line += 2 * changes.length;
    const verdicts: (CommandResult | "broken")[] = [];
    /** A query printed nothing: stdout is out of step with the markers, read no more of it. */
    let silent = false;
    /** …from a tc that answers queries: the session is replaced once these are answered. */
    let replace = false;
    const unanswered = () => changes.slice(verdicts.length).map(() => "broken" as const);
    try {
      await proc.write(changes.map((args) => `${args.join(" ")}\n${TC_SYNC_LINE}\n`).join(""));
    } catch (e) {
      await this.#broken(proc, `not writable (${String(e)})`);
      return unanswered();
    }
    const messages: string[] = [];
    let failure: string | undefined;
    // A give-up (`stopping()`, `close()`) cancels the wait below (`#giveUpController`).
    this.#waiting = { proc, giveUp };
    try {
      while (verdicts.length < changes.length) {
        const changeLine = first + 2 * verdicts.length + 1;
        const wait = this.#answeredBy === proc ? this.#timeoutMs : this.#firstAnswerTimeoutMs;
        const line = giveUp.aborted ? "given up" : await proc.nextLine("stderr", wait);
        if (line === "given up" || (line === "timeout" && giveUp.aborted)) {
          await this.#supervisor.fail(proc);
          return [...verdicts, ...unanswered()];
        }
        if (line === "timeout" || line === null) {
          await this.#broken(proc, line === null ? "exited" : `no answer within ${wait} ms`);
          return [...verdicts, ...unanswered()];
        }
        const failed = BATCH_FAILED_LINE.exec(line);
        if (failed === null) {
          messages.push(line);
          continue;
        }
        const n = Number(failed[1]);
        if (n === changeLine + 1) {
          this.#answeredBy = proc;
          // Before the marker's report: its own complaint and any warning tc gave the change.
          const warnings = messages.filter((m) => !m.includes(TC_SYNC_LINE));
          // A query's answer: its line on stdout, printed before tc read the marker (it may
          // arrive after the marker's report, on the other stream).
          let stdout = failure === undefined && options.answers && this.#queriesAnswer &&
              !silent
            ? await this.#nextStdout(this.#timeoutMs)
            : "";
          const query = changes[verdicts.length].join(" ");
          if (
            stdout !== "timeout" && stdout !== "" && verdicts.length + 1 < changes.length &&
            !options.answers![verdicts.length](stdout)
          ) {
            // The next query's answer: this one printed nothing, and stdout is still in step.
            this.#out.unshift(stdout);
            stdout = "";
          }
          if (stdout === "timeout") {
            silent = true;
            replace = this.#silentAnswer(query);
          } else if (stdout !== "") {
            this.#queriesAnswered = true;
            if (this.#silentQuery === query) this.#silentQuery = undefined;
          }
          verdicts.push(
            failure !== undefined ? { code: 1, stdout: "", stderr: failure } : {
              code: 0,
              stdout: stdout === "timeout" ? "" : stdout,
              stderr: warnings.join("\n"),
            },
          );
          failure = undefined;
        } else if (n === changeLine) {
          failure = messages.join("\n");
        }
        messages.length = 0;
      }
    } finally {
      this.#waiting = undefined;
    }
    if (replace) this.#retire(proc);
    return verdicts;
  }

  /**
   * A query got no stdout line within `timeoutMs`. From a tc that never answered one, its batch
   * mode answers none: no more are asked here. From one that has, the query printed nothing (an
   * HTB class deleted under its root, `class show` of it is silent) or its line is late: the
   * session is replaced (a late line would be the next query's answer) and queries go on in the
   * next, unless this same query was silent in the session before too (docs/operation.md,
   * "Another program changes the rate"). True: replace the session.
   */
  #silentAnswer(query: string): boolean {
    if (!this.#queriesAnswered || this.#silentQuery === query) {
      this.#queriesAnswer = false;
      this.#logger?.debug("tc -batch printed no answer to a query: asking tc on its own");
      return false;
    }
    this.#silentQuery = query;
    this.#logger?.info(
      "tc -batch printed no answer to a query: {query} (a class deleted?); replacing the session",
      { query: JSON.stringify(query) },
    );
    return true;
  }

  async #broken(proc: LineCoprocess, what: string): Promise<"broken"> {
    if (this.#stopping || this.#closed) {
      // Nothing is restarted at a stop: the exit rate's outcome is the daemon's one WARN
      // (docs/operation.md, "Stopping while the router does not answer").
      this.#logger?.debug("tc -batch coprocess {what} while the daemon stops: spawning tc", {
        what,
      });
    } else if (!this.#degraded) {
      this.#logger?.warn("tc -batch coprocess {what}: restarting it, spawning tc meanwhile", {
        what,
      });
    }
    this.#degraded = true;
    await this.#supervisor.fail(proc);
    this.#scheduleReapply();
    return "broken";
  }

  /**
   * The change just written to an abandoned coprocess may still be made by its tc (on a router,
   * the remote tc outlives the killed ssh until it has read its input), after a newer change of
   * the same target: so the last change of every target is made once more `reapplyAfterMs`
   * later (a later abandonment moves it). docs/remote.md, "Start-up and faults".
   */
  #scheduleReapply(): void {
    if (this.#closed) return;
    this.#cancelReapply();
    this.#reapplyTimer = this.#timers.setTimeout(() => {
      this.#reapplyTimer = undefined;
      if (this.#closed) return;
      this.#logger?.debug("making the last change of {n} tc targets once more", {
        n: this.#latest.size,
      });
      for (const args of this.#latest.values()) void this.run(args);
    }, this.#reapplyAfterMs);
  }

  #cancelReapply(): void {
    if (this.#reapplyTimer === undefined) return;
    this.#timers.clearTimeout(this.#reapplyTimer);
    this.#reapplyTimer = undefined;
  }

  /**
   * A give-up controller whose abort ends the wait for the coprocess's answer of a change asked
   * under it: one listener per controller (a controller lasts until the daemon stops), not one
   * per change and a race per answer line (docs/footprint.md, "Twenty-second session").
   */
  #giveUpController(): AbortController {
    const controller = new AbortController();
    const signal = controller.signal;
    signal.addEventListener("abort", () => {
      const w = this.#waiting;
      if (w?.giveUp === signal) w.proc.cancelWait("stderr");
    }, { once: true });
    return controller;
  }

  /** True (and the change owed to `resume()`) while changes are not tried. */
  #deferred(): boolean {
    if (this.#stopping || !this.#deferWhile()) return false;
    this.#owed = true;
    return true;
  }

  /**
   * One spawned tc. When it fails and `deferWhile` now holds (its runner found the router
   * silent), the change is owed to `resume()` instead: its failure says nothing about the shaper.
   */
  async #spawnOne(args: readonly string[], giveUp: AbortSignal): Promise<CommandResult> {
    this.#fallbacks++;
    const r = await this.#runner(this.#command[0], [...this.#command.slice(1), ...args], {
      signal: giveUp,
    });
    if (r.code === 0) return r;
    // Killed by `stopping()` or `close()`, or the router did not answer while the daemon stops:
    // no query of the root qdisc after it either.
    if (giveUp.aborted || (this.#stopping && this.#deferWhile())) return GIVEN_UP;
    return this.#deferred() ? DEFERRED : r;
  }

  /**
   * Gives up the changes queued now that are still running after `closeGraceMs` (the change
   * running then is killed); true when they all finished within it.
   */
  async #giveUpAfterGrace(): Promise<boolean> {
    const giveUp = this.#giveUp;
    this.#giveUp = this.#giveUpController();
    const done = await settledWithin(this.#queue, this.#closeGraceMs);
    if (!done) {
      // Those queued behind it fail at once, without a fallback, once closed.
      if (this.#closed) this.#abandoned = true;
      giveUp.abort();
    }
    return done;
  }
}

/**
 * A promise that resolves with "given up" when `signal` aborts (never when it does not), and
 * `dispose` to remove its listener once the wait is over.
 */
function abortion(signal: AbortSignal): { promise: Promise<"given up">; dispose: () => void } {
  if (signal.aborted) return { promise: Promise.resolve("given up"), dispose: () => {} };
  let listener = () => {};
  const promise = new Promise<"given up">((resolve) => listener = () => resolve("given up"));
  signal.addEventListener("abort", listener, { once: true });
  return { promise, dispose: () => signal.removeEventListener("abort", listener) };
}

/** A change the coprocess can take as one line (else it runs as one spawned tc). */
function batchable(args: readonly string[]): boolean {
  return args.length > 0 && !args.some((a) => a === "" || UNSAFE_ARG.test(a));
}

/**
 * What a change line changes: its object (`qdisc`, `class`), device and class; a later change of
 * the same target overrides it.
 */
function targetOf(args: readonly string[]): string {
  const after = (word: string) => {
    const i = args.indexOf(word);
    return i >= 0 ? args[i + 1] : undefined;
  };
  return `${args[0]} ${after("dev")} ${after("classid")}`;
}
