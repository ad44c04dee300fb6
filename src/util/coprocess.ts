/**
 * A supervised long-lived helper process spoken to one line at a time: each request is one line
 * on its stdin and is answered by the next line on its stdout. Used for `ip -batch` (counters)
 * and the remote counter reader, so no process is spawned per tick. A helper that dies or stops
 * answering is killed, reaped, and started again on the next request.
 */
import type { Logger } from "@logtape/logtape";

/** Why a request got no answer. */
export type CoprocessFailure = "exited" | "timeout" | "unavailable";

/** One request's outcome. */
export type CoprocessAnswer = { ok: true; line: string } | { ok: false; failure: CoprocessFailure };

/** Options of `LineCoprocess`. */
export interface LineCoprocessOptions {
  /** What the logs call it (e.g. `ip`). */
  name: string;
  /** Give up on one answer after this long (default 1000 ms). */
  timeoutMs?: number;
  /** Logger for process trouble. */
  logger?: Logger;
  /** Called with each chunk the helper writes to stderr (default: logged at DEBUG). */
  onStderr?: (text: string) => void;
}

interface Running {
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  lines: string[];
  waiter?: (line: string | null) => void;
  dead: boolean;
  done: Promise<unknown>;
}

const encoder = new TextEncoder();

/** A line-oriented request/answer helper process; requests are serialised. */
export class LineCoprocess {
  readonly #argv: readonly string[];
  readonly #name: string;
  readonly #timeoutMs: number;
  readonly #logger?: Logger;
  readonly #onStderr?: (text: string) => void;
  #proc: Running | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #starts = 0;
  #closed = false;

  /** `argv[0]` is the program; the process starts on the first request. */
  constructor(argv: readonly string[], options: LineCoprocessOptions) {
    if (argv.length === 0) throw new RangeError("LineCoprocess: empty argv");
    this.#argv = argv;
    this.#name = options.name;
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#logger = options.logger;
    this.#onStderr = options.onStderr;
  }

  /** How many times the process had to be started again after the first start. */
  get restarts(): number {
    return Math.max(0, this.#starts - 1);
  }

  /** The running process's pid (tests). */
  get pid(): number | undefined {
    return this.#proc?.dead === false ? this.#proc.child.pid : undefined;
  }

  /** Sends `line` (without newline) and resolves with the next stdout line. Never rejects. */
  request(line: string): Promise<CoprocessAnswer> {
    const next = this.#queue.then(() => this.#attempt(line));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #attempt(request: string): Promise<CoprocessAnswer> {
    if (this.#closed) return { ok: false, failure: "unavailable" };
    const proc = this.#ensure();
    if (proc === undefined) return { ok: false, failure: "unavailable" };
    const answer = new Promise<string | null>((resolve) => {
      const queued = proc.lines.shift();
      if (queued !== undefined) resolve(queued);
      else proc.waiter = resolve;
    });
    try {
      await proc.writer.write(encoder.encode(`${request}\n`));
    } catch (e) {
      this.#logger?.warn("{name} helper not writable: {error}", {
        name: this.#name,
        error: String(e),
      });
      await this.#kill(proc);
      return { ok: false, failure: "exited" };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    const got = await Promise.race([answer, timeout]);
    clearTimeout(timer);
    if (got === "timeout" || got === null) {
      this.#logger?.warn("{name} helper {what}; restarting it", {
        name: this.#name,
        what: got === null ? "exited" : `did not answer within ${this.#timeoutMs} ms`,
      });
      await this.#kill(proc);
      return { ok: false, failure: got === null ? "exited" : "timeout" };
    }
    return { ok: true, line: got };
  }

  #ensure(): Running | undefined {
    if (this.#proc !== undefined && !this.#proc.dead) return this.#proc;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(this.#argv[0], {
        args: this.#argv.slice(1),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      this.#logger?.error("cannot start {program}: {error}", {
        program: this.#argv[0],
        error: String(e),
      });
      this.#proc = undefined;
      return undefined;
    }
    this.#starts++;
    const proc: Running = {
      child,
      writer: child.stdin.getWriter(),
      lines: [],
      dead: false,
      done: Promise.resolve(),
    };
    const deliver = (line: string | null) => {
      const w = proc.waiter;
      proc.waiter = undefined;
      if (w !== undefined) w(line);
      else if (line !== null) proc.lines.push(line);
    };
    const pumpOut = (async () => {
      const decoder = new TextDecoder();
      let buf = "";
      for await (const chunk of child.stdout) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          deliver(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      }
    })().catch(() => {});
    const pumpErr = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        const text = decoder.decode(chunk).trim();
        if (this.#onStderr !== undefined) this.#onStderr(text);
        else this.#logger?.debug("{name}: {text}", { name: this.#name, text });
      }
    })().catch(() => {});
    proc.done = Promise.all([pumpOut, pumpErr, child.status]).finally(() => {
      proc.dead = true;
      deliver(null);
    });
    this.#proc = proc;
    return proc;
  }

  async #kill(proc: Running): Promise<void> {
    proc.dead = true;
    try {
      proc.child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await proc.writer.close().catch(() => {});
    await proc.done;
  }

  /** Ends the process (EOF on stdin, SIGKILL after the timeout) and waits for it. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc === undefined) return;
    await proc.writer.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      proc.done.then(() => false),
      new Promise<boolean>((r) => timer = setTimeout(() => r(true), this.#timeoutMs)),
    ]);
    clearTimeout(timer);
    if (timedOut) await this.#kill(proc);
  }
}
