/**
 * Link statistics through iproute2 (`ip -j -s link`), because Deno needs --allow-all to read
 * /sys or /proc. Two sources: a supervised long-lived `ip -force -j -s -batch -` coprocess
 * (the default, ~0.5 ms per read) and one `ip` process per read (~3 ms, the fallback).
 */
import type { Logger } from "../log/logger.ts";
import type { LinkStats } from "./types.ts";
import type { Clock } from "../util/clock.ts";
import {
  BATCH_FAILED_LINE,
  CoprocessSupervisor,
  type LineCoprocess,
  type ProcessSpawner,
} from "../util/coprocess.ts";
import { type BlockThread, blockThread } from "../util/blocking_sleep.ts";
import type { CounterReadOptions } from "../control/ports.ts";
import {
  COMMAND_NOT_RUNNABLE,
  COMMAND_TIMED_OUT,
  type CommandRunner,
  denoCommandRunner,
} from "../util/command.ts";

/** Something that returns the statistics of the named links (absent names are missing). */
export interface LinkStatsSource {
  /** Statistics of `names` that exist; `null` when `ip` itself failed. */
  stats(
    names: readonly string[],
    options?: CounterReadOptions,
  ): Promise<Map<string, LinkStats> | null>;
  /** Stops and reaps helper processes. */
  close(): Promise<void>;
}

/** Options of the ip-based sources. */
export interface IpSourceOptions {
  /** `ip` binary (default `ip` from PATH). */
  ipPath?: string;
  /** Network namespace (`ip -n NS`), for tests and benchmarks. */
  netns?: string;
  /** Give up on one reading after this long, at most twice that (default 1000 ms). */
  timeoutMs?: number;
  /** Logger for process trouble. */
  logger?: Logger;
}

/**
 * The fields of one link's answer as iproute2 prints it (`[{"ifindex":N,…,"ifname":"NAME",…,
 * "stats64":{"rx":{"bytes":N,…},"tx":{"bytes":N,…`). A key between quotes followed by a colon
 * is always structure: inside a JSON string every quote is escaped.
 */
const ONE_LINK =
  /^\[\{"ifindex":(\d+),.*?"ifname":"([^"\\]*)",.*?"stats64":\{"rx":\{"bytes":(\d+),[^{}]*\},"tx":\{"bytes":(\d+)[,}]/;

/**
 * Parses `ip -j -s link` output into stats by name (entries without stats64 are skipped), added
 * to `out` when given (one map per reading, not one per line and a copy). The answer of one link
 * (the daemon's every reading, ten a second while `capacity` decides) takes its three numbers
 * with one regular expression instead of building the whole object with `JSON.parse`
 * (docs/footprint.md, "CPU under load"); anything else is parsed as JSON.
 */
export function parseLinkJson(
  text: string,
  out: Map<string, LinkStats> = new Map(),
): Map<string, LinkStats> {
  const one = ONE_LINK.exec(text);
  // One link only: a second name would mean the numbers may belong to another link.
  if (one !== null && text.indexOf('"ifname":') === text.lastIndexOf('"ifname":')) {
    out.set(one[2], { ifindex: Number(one[1]), rx: Number(one[3]), tx: Number(one[4]) });
    return out;
  }
  const list = JSON.parse(text);
  if (!Array.isArray(list)) throw new Error("ip -j link: expected a JSON array");
  for (const l of list) {
    const rx = l?.stats64?.rx?.bytes;
    const tx = l?.stats64?.tx?.bytes;
    if (typeof l?.ifname !== "string" || typeof rx !== "number" || typeof tx !== "number") continue;
    out.set(l.ifname, { ifindex: Number(l.ifindex), rx, tx });
  }
  return out;
}

/**
 * How long an idle reading blocks the thread after sending its request, ms: `ip` answers within
 * about 0.5 ms here (90 % within 1 ms), and an answer complete when the thread looks costs one
 * wake-up instead of one per part `ip` writes (it flushes each link). A slower answer is simply
 * read as usual.
 */
export const IDLE_SETTLE_MS = 3;

/**
 * `ip -batch`'s answer to `link show dev NAME` once NAME's device was deleted and created again:
 * the process keeps the index it looked the name up by, and the kernel has no link by that index
 * any more. A fresh process looks the name up again (the reading is retried with one at once).
 */
export const STALE_ANSWER = "[{}]";

/** A name `ip -batch` would split or read specially (quotes, comments): asked for with all links. */
const UNSAFE_NAME = /[\s"'#\\]/;

/** The batch lines of one reading, and their bytes as written. */
interface BatchRequest {
  /** The names asked for (the key: the counter reader asks for the same two every tick). */
  readonly names: readonly string[];
  /** Number of batch lines. */
  readonly lines: number;
  /** The lines, UTF-8, each ended by a newline. */
  readonly bytes: Uint8Array;
}

const encoder = new TextEncoder();

/** The request for `names`: one `link show dev NAME` per distinct name, or all links. */
function batchRequest(names: readonly string[]): BatchRequest {
  const unique = [...new Set(names)];
  const lines = unique.length === 0 || unique.some((n) => n === "" || UNSAFE_NAME.test(n))
    ? ["link show"]
    : unique.map((n) => `link show dev ${n}`);
  return {
    names: [...names],
    lines: lines.length,
    bytes: encoder.encode(`${lines.join("\n")}\n`),
  };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A long-lived `ip -force -j -s -batch -` process. Each reading sends one `link show dev NAME`
 * per interface (not `link show`: `ip` then dumps, formats and flushes every link of the router,
 * and the daemon parses them all) and takes one JSON line per interface from stdout; a missing
 * interface is reported on stderr instead (its message, then `Command failed -:N` for its line N),
 * which ends the wait for it, so it is simply absent. A process that dies or stops answering is
 * killed, reaped and restarted (src/util/coprocess.ts). While the loop is idle a reading blocks
 * the thread for `settleMs` after its request (docs/footprint.md, "Idle CPU").
 */
export class IpBatchSource implements LinkStatsSource {
  readonly #timeoutMs: number;
  readonly #logger?: Logger;
  readonly #supervisor: CoprocessSupervisor;
  readonly #settleMs: number;
  readonly #block: BlockThread;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** A fault was logged at WARN and no reading has worked since (later ones go to DEBUG). */
  #degraded = false;
  /** The last request built: reused while the same names are asked for (every tick). */
  #request: BatchRequest | undefined;
  /** The process the line numbers count for, and the last line number written to it. */
  #lineOf: LineCoprocess | undefined;
  #line = 0;
  /** The reading in progress: its batch lines, their answers so far and those `ip` failed. */
  #pending:
    | { proc: LineCoprocess; first: number; last: number; answered: number; failed: number }
    | undefined;

  /** Creates the source; the process starts on the first reading. */
  constructor(
    options: IpSourceOptions & {
      spawn?: ProcessSpawner;
      clock?: Clock;
      /** Block after an idle reading's request, ms (default {@linkcode IDLE_SETTLE_MS}). */
      settleMs?: number;
      /** Blocks the thread (tests record instead). */
      block?: BlockThread;
    } = {},
  ) {
    const ipPath = options.ipPath ?? "ip";
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#settleMs = options.settleMs ?? IDLE_SETTLE_MS;
    this.#block = options.block ?? blockThread;
    this.#logger = options.logger;
    this.#supervisor = new CoprocessSupervisor([
      ipPath,
      ...(options.netns ? ["-n", options.netns] : []),
      "-force",
      "-j",
      "-s",
      "-batch",
      "-",
    ], {
      spawn: options.spawn,
      clock: options.clock,
      onLine: { stderr: (text) => this.#onStderr(text) },
      // Once per fault: the same failure again (`ip` still missing) at DEBUG, until one starts.
      onStartError: (e, repeated) =>
        this.#logger?.[repeated ? "debug" : "error"]("cannot start {ip}: {error}", {
          ip: ipPath,
          error: String(e),
        }),
    });
  }

  /** How many times the coprocess had to be (re)started after the first. */
  get restarts(): number {
    return Math.max(0, this.#supervisor.starts - 1);
  }

  /** The running coprocess's pid (tests). */
  get pid(): number | undefined {
    return this.#supervisor.current?.child.pid;
  }

  /** Reads the statistics of `names` once; readings are serialised. */
  stats(
    names: readonly string[],
    options: CounterReadOptions = {},
  ): Promise<Map<string, LinkStats> | null> {
    let request = this.#request;
    if (request === undefined || !sameNames(request.names, names)) {
      request = this.#request = batchRequest(names);
    }
    const r = request;
    const next = this.#queue.then(() => this.#readOnce(r, options.idle === true));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #readOnce(
    request: BatchRequest,
    idle: boolean,
  ): Promise<Map<string, LinkStats> | null> {
    const first = await this.#attempt(request, idle);
    // A coprocess that died since the last reading (killed, OOM) is only noticed now: one
    // immediate retry with a fresh process avoids holding the rates for a tick.
    if (first !== "exited") return first;
    const second = await this.#attempt(request, idle);
    return second === "exited" ? null : second;
  }

  async #attempt(
    request: BatchRequest,
    idle: boolean,
  ): Promise<Map<string, LinkStats> | null | "exited"> {
    if (this.#closed) return null;
    const proc = this.#supervisor.acquire();
    if (proc === undefined) return null;
    if (this.#lineOf !== proc) {
      this.#lineOf = proc;
      this.#line = 0;
    }
    const pending = {
      proc,
      first: this.#line + 1,
      last: this.#line + request.lines,
      answered: 0,
      failed: 0,
    };
    this.#line = pending.last;
    this.#pending = pending;
    try {
      try {
        await proc.write(request.bytes);
      } catch (e) {
        this.#fault("ip coprocess not writable: {error}", { error: String(e) });
        await this.#supervisor.fail(proc);
        return "exited";
      }
      if (idle) this.#block(this.#settleMs);
      const lines: string[] = [];
      while (pending.answered + pending.failed < request.lines) {
        const got = await proc.nextLine("stdout", this.#timeoutMs);
        if (got === "timeout" && pending.answered + pending.failed >= request.lines) break;
        if (got === "timeout" || got === null) {
          this.#fault("ip coprocess {what}; restarting it", {
            what: got === null ? "exited" : `did not answer within ${this.#timeoutMs} ms`,
          });
          await this.#supervisor.fail(proc);
          return got === null ? "exited" : null;
        }
        lines.push(got);
        pending.answered++;
      }
      this.#supervisor.succeeded();
      if (lines.includes(STALE_ANSWER)) {
        this.#logger?.info("ip answered {answer} for a link created again; restarting it", {
          answer: STALE_ANSWER,
        });
        await this.#supervisor.retire(proc, this.#timeoutMs);
        return "exited";
      }
      if (this.#degraded) {
        this.#degraded = false;
        this.#logger?.info("ip coprocess answering again");
      }
      try {
        const out = new Map<string, LinkStats>();
        for (const line of lines) parseLinkJson(line, out);
        return out;
      } catch (e) {
        this.#logger?.warn("unparsable ip output: {error}", { error: (e as Error).message });
        return null;
      }
    } finally {
      this.#pending = undefined;
    }
  }

  /**
   * Logs a fault of the coprocess: at WARN the first time, then at DEBUG until a reading works
   * again (one that keeps hanging is restarted with a growing delay; docs/operation.md).
   */
  #fault(message: string, properties: Record<string, unknown>): void {
    if (this.#degraded) this.#logger?.debug(message, properties);
    else this.#logger?.warn(message, properties);
    this.#degraded = true;
  }

  /**
   * `ip`'s stderr: a failed line of the reading in progress (a missing interface) means one answer
   * less to wait for; once none is left, the wait for stdout ends.
   */
  #onStderr(text: string): void {
    const failed = BATCH_FAILED_LINE.exec(text);
    const p = this.#pending;
    if (failed === null || p === undefined) {
      this.#logger?.debug("ip: {text}", { text });
      return;
    }
    const n = Number(failed[1]);
    if (n < p.first || n > p.last) return;
    p.failed++;
    // The others' answers may still be on their way (stdout is another pipe): the wait ends only
    // once every line is accounted for.
    if (p.answered + p.failed > p.last - p.first) p.proc.cancelWait("stdout");
  }

  /** Ends the coprocess (EOF on stdin, SIGKILL after the timeout) and waits for it. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await this.#supervisor.close(this.#timeoutMs);
  }
}

/** One `ip -j -s link show dev IF` process per interface and reading. */
export class IpSpawnSource implements LinkStatsSource {
  readonly #ipPath: string;
  readonly #netns: string[];
  readonly #run: CommandRunner;

  /** Creates the source. */
  constructor(options: IpSourceOptions = {}) {
    this.#ipPath = options.ipPath ?? "ip";
    this.#netns = options.netns ? ["-n", options.netns] : [];
    this.#run = denoCommandRunner({ timeoutMs: options.timeoutMs ?? 1000 });
  }

  /** Reads each named link with its own process; a missing link is absent. */
  async stats(names: readonly string[]): Promise<Map<string, LinkStats> | null> {
    const out = new Map<string, LinkStats>();
    for (const name of new Set(names)) {
      const r = await this.#run(this.#ipPath, [
        ...this.#netns,
        "-j",
        "-s",
        "link",
        "show",
        "dev",
        name,
      ]);
      // `ip` missing or hung: no reading at all; a missing link is just absent.
      if (r.code === COMMAND_NOT_RUNNABLE || r.code === COMMAND_TIMED_OUT) return null;
      if (r.code !== 0) continue;
      parseLinkJson(r.stdout, out);
    }
    return out;
  }

  /** Nothing to stop. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
