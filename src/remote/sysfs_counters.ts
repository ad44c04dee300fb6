/**
 * Byte counters of the router's interfaces over one long-lived SSH session (docs/remote.md).
 * Stock OpenWrt has BusyBox `ip` without `-j`, but `/sys/class/net/IF/` is always there; a small
 * shell loop on the router reads it with the shell's own `read` (no process per reading there
 * either) and answers each request line with one line.
 */
import type { Logger } from "../log/logger.ts";
import type { LinkStatsSource } from "../counters/ip_link.ts";
import type { LinkStats } from "../counters/types.ts";
import { CoprocessSupervisor, type LineCoprocess, type ProcessSpawner } from "../util/coprocess.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import type { CommandResult } from "../util/command.ts";
import type { RouterLink } from "./router_link.ts";
import {
  explainSshFailure,
  type RemoteSettings,
  shellQuote,
  SSH_FAILED,
  sshArgv,
  type SshArgvOptions,
  sshFailureKind,
} from "./ssh.ts";

/**
 * The router-side loop: reads interface names from a line, answers `OK` followed by
 * `name ifindex rx_bytes tx_bytes` for each interface that exists. A line `tc ARGS…` (plain words
 * only, split but never globbed) runs that tc instead and answers `TC code message`: the changes
 * owed when the router answers again are made through this session, already up, instead of
 * waiting for a `tc -batch` session's connection (docs/operation.md, "A router that stays away").
 */
export const SYSFS_READER_SCRIPT = [
  "set -f;",
  "while read -r names; do",
  'case $names in "tc "*) e=$($names 2>&1 >/dev/null); rc=$?;',
  'printf "TC %s" "$rc"; printf " %s" $e; echo; continue;; esac;',
  "out=OK;",
  "for n in $names; do",
  "d=/sys/class/net/$n;",
  'if read -r i < "$d/ifindex" && read -r rx < "$d/statistics/rx_bytes"',
  '&& read -r tx < "$d/statistics/tx_bytes"; then out="$out $n $i $rx $tx"; fi;',
  "done 2>/dev/null;",
  'echo "$out";',
  "done",
].join(" ");

/**
 * TCP connection attempts of one redial's ssh (`ConnectionAttempts`, 1 s apart, each up to
 * `ConnectTimeout`): one ssh keeps trying for 30 s (each attempt failing at once: refused,
 * network unreachable) to ~5.5 min (no answer at all: switched off, frames dropped), and sees the
 * router answer within seconds of its return instead of at the next redial (docs/operation.md,
 * "A router that stays away").
 */
export const COUNTER_DIAL_ATTEMPTS = 30;

/** The last lines ssh wrote on stderr kept for the explanation of a session that ended. */
const SSH_ERR_LINES_KEPT = 4;

/** Interface names the reader sends to the router's shell: what a kernel name normally uses. */
const SAFE_IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** The words of a `tc` line the reader sends (rates, handles, device and class names). */
const SAFE_TC_WORD = /^[A-Za-z0-9_.:\/+-]+$/;

/** Parses the answer to a `tc` line: `TC code message`. */
export function parseTcAnswer(line: string): CommandResult | null {
  const m = /^TC (\d+)(?: (.*))?$/.exec(line);
  return m === null ? null : { code: Number(m[1]), stdout: "", stderr: (m[2] ?? "").trim() };
}

/** Parses one answer line of `SYSFS_READER_SCRIPT`. */
export function parseSysfsAnswer(line: string): Map<string, LinkStats> | null {
  const words = line.trim().split(/\s+/);
  if (words[0] !== "OK" || (words.length - 1) % 4 !== 0) return null;
  const out = new Map<string, LinkStats>();
  for (let i = 1; i < words.length; i += 4) {
    const [ifindex, rx, tx] = words.slice(i + 1, i + 4).map(Number);
    if (![ifindex, rx, tx].every(Number.isFinite)) return null;
    out.set(words[i], { ifindex, rx, tx });
  }
  return out;
}

/** Options of `SysfsSshSource`. */
export interface SysfsSshOptions extends SshArgvOptions {
  /** Give up on one reading after this long (default 1000 ms). */
  timeoutMs?: number;
  /** Wait for the first answer of a new session, connection included (default 10 000 ms). */
  connectTimeoutMs?: number;
  /**
   * Give up on a redial (a session dialled again after one that answered) without an answer
   * after this long (default: ssh's own attempts, `COUNTER_DIAL_ATTEMPTS` × (ConnectTimeout + 1
   * s), plus one ConnectTimeout); an ssh that gave up ends sooner by itself.
   */
  redialTimeoutMs?: number;
  /** Logger for connection trouble. */
  logger?: Logger;
  /** The full command instead of ssh (tests run the loop in a local `sh`). */
  argv?: readonly string[];
  /** Starts the session (default: Deno.Command; tests). */
  spawn?: ProcessSpawner;
  /** Clock of the redial delays (default: the system clock). */
  clock?: Clock;
  /** Told when the router stops answering and when it answers again (remote mode). */
  link?: RouterLink;
}

/**
 * Link statistics read on the router through one SSH session. A dropped session is dialled again
 * at once by an ssh that keeps dialling, then with the supervisor's growing delay counted from
 * each dial's start; the outage is logged once when it starts and once when the router answers
 * again.
 */
export class SysfsSshSource implements LinkStatsSource {
  readonly #supervisor: CoprocessSupervisor;
  readonly #host: string;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #redialTimeoutMs: number;
  readonly #clock: Clock;
  readonly #logger?: Logger;
  readonly #link?: RouterLink;
  #queue: Promise<unknown> = Promise.resolve();
  /** The session that has answered at least once (later answers get the short timeout). */
  #answered: LineCoprocess | undefined;
  /** A redialled session whose first answer is awaited across ticks, and since when (s). */
  #dialling: { proc: LineCoprocess; sinceS: number } | undefined;
  /** When the current outage began (monotonic s), or undefined while the router answers. */
  #outageSince: number | undefined;
  #warnedNames = false;
  readonly #settings: RemoteSettings;
  /** What the sessions' ssh wrote on stderr lately (its own errors, the router shell's). */
  readonly #sshErr: string[] = [];
  /** The refusal last logged (host key, key) in this outage, logged again only when it changes. */
  #refusal: string | undefined;

  /** The session starts on the first reading. */
  constructor(settings: RemoteSettings, options: SysfsSshOptions = {}) {
    const attempts = options.connectionAttempts ?? COUNTER_DIAL_ATTEMPTS;
    const argv = options.argv ?? [
      ...sshArgv(settings, { ...options, connectionAttempts: attempts }),
      `sh -c ${shellQuote(SYSFS_READER_SCRIPT)}`,
    ];
    const connectS = options.connectTimeoutS ?? 10;
    this.#settings = settings;
    this.#host = settings.remote || "the router";
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#redialTimeoutMs = options.redialTimeoutMs ??
      (attempts * (connectS + 1) + connectS) * 1000;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#link = options.link;
    this.#supervisor = new CoprocessSupervisor(argv, {
      spawn: options.spawn,
      clock: options.clock,
      maxBackoffS: 30,
      // A redial that kept dialling for 30 s or more is followed by the next at once.
      delayFromStart: true,
      onLine: {
        stderr: (text) => {
          this.#logger?.debug("ssh (counters): {text}", { text });
          this.#sshErr.push(text);
          if (this.#sshErr.length > SSH_ERR_LINES_KEPT) this.#sshErr.shift();
        },
      },
      onStartError: (e) => this.#outage(`ssh cannot be started (${String(e)})`),
    });
  }

  /** How many times the session was opened again (tests, metrics). */
  get restarts(): number {
    return Math.max(0, this.#supervisor.starts - 1);
  }

  /** Reads the named interfaces; names a kernel would not use are reported missing. */
  stats(names: readonly string[]): Promise<Map<string, LinkStats> | null> {
    const next = this.#queue.then(() => this.#readOnce(names));
    this.#queue = next.catch(() => {});
    return next;
  }

  /**
   * Runs each change (`tc ARGS…`) on the router through this session while it answers (its shell
   * runs them in turn, one process each there, none here): all in one write, so over ssh one
   * round trip for a tick's pair (docs/remote.md, "A slow management link"), each answered by its
   * own line. Undefined for a change not made here, and for every one after it (they are made
   * elsewhere in order): the session does not answer now (dialling, away), a word is not plain,
   * or no answer came within `timeoutMs` (the session is then given up as after a reading without
   * an answer).
   */
  tc(
    changes: readonly (readonly string[])[],
    timeoutMs: number,
  ): Promise<(CommandResult | undefined)[]> {
    const next = this.#queue.then(() => this.#tcOnce(changes, timeoutMs));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #tcOnce(
    changes: readonly (readonly string[])[],
    timeoutMs: number,
  ): Promise<(CommandResult | undefined)[]> {
    const results: (CommandResult | undefined)[] = changes.map(() => undefined);
    const proc = this.#answered;
    if (
      proc === undefined || proc.dead || proc !== this.#supervisor.current ||
      this.#outageSince !== undefined
    ) return results;
    const plain = (args: readonly string[]) =>
      args.length > 0 && args.every((a) => SAFE_TC_WORD.test(a));
    // Those before the first that is not plain: the rest are made after them, in order, elsewhere.
    const n = changes.findIndex((args) => !plain(args));
    const sent = n < 0 ? changes : changes.slice(0, n);
    if (sent.length === 0) return results;
    try {
      await proc.write(sent.map((args) => `tc ${args.join(" ")}\n`).join(""));
    } catch {
      await this.#failed(proc, "session closed");
      return results;
    }
    // The shell answers the lines in the order written.
    for (const i of sent.keys()) {
      const got = await proc.nextLine("stdout", timeoutMs);
      const answer = typeof got === "string" ? parseTcAnswer(got) : null;
      if (answer === null) {
        await this.#failed(
          proc,
          got === null
            ? "session ended"
            : got === "timeout"
            ? `tc gave no answer within ${timeoutMs} ms`
            : `unexpected answer to tc: ${got.slice(0, 100)}`,
        );
        return results;
      }
      results[i] = answer;
    }
    return results;
  }

  async #readOnce(names: readonly string[]): Promise<Map<string, LinkStats> | null> {
    const safe = names.filter((n) => SAFE_IFNAME.test(n));
    if (safe.length !== names.length && !this.#warnedNames) {
      this.#warnedNames = true;
      this.#logger?.error("interface names not readable on the router: {names}", {
        names: names.filter((n) => !SAFE_IFNAME.test(n)).join(", "),
      });
    }
    // A session that ended by itself (sshd gone, connection closed) is the start of an outage:
    // its redial may now keep dialling for minutes before it ends (COUNTER_DIAL_ATTEMPTS).
    if (this.#answered?.dead && this.#outageSince === undefined) this.#outage("session ended");
    const proc = this.#supervisor.acquire();
    if (proc === undefined) return null;
    if (this.#answered !== undefined && this.#answered !== proc) {
      if (!(await this.#redialled(proc, safe))) return null;
    }
    try {
      await proc.write(`${safe.join(" ")}\n`);
    } catch {
      await this.#failed(proc, "session closed");
      return null;
    }
    const wait = this.#answered === proc ? this.#timeoutMs : this.#connectTimeoutMs;
    const got = await proc.nextLine("stdout", wait);
    if (got === null || got === "timeout") {
      await this.#failed(proc, got === null ? "session ended" : `no answer within ${wait} ms`);
      return null;
    }
    this.#answered = proc;
    this.#supervisor.succeeded();
    this.#link?.answered();
    this.#refusal = undefined;
    if (this.#outageSince !== undefined) {
      this.#logger?.info("the router {host} answers again after {s} s", {
        host: this.#host,
        s: Math.round((this.#clock.monotonicS() - this.#outageSince) * 10) / 10,
      });
      this.#outageSince = undefined;
    }
    const parsed = parseSysfsAnswer(got);
    if (parsed === null) {
      this.#logger?.warn("unexpected answer from the router's counter reader: {line}", {
        line: got.slice(0, 200),
      });
    }
    return parsed;
  }

  /**
   * A session dialled again after one that worked: its first answer waits for the connection,
   * while ssh keeps trying (`COUNTER_DIAL_ATTEMPTS`) up to `redialTimeoutMs`, but each reading
   * waits only `timeoutMs` of that (no reading while it connects), so a router that silently
   * drops every frame does not hold a tick for ssh's ConnectTimeout (docs/remote.md, "Start-up and
   * faults"). True once it has answered; its first answer, to a request of an earlier tick, is
   * dropped and the caller asks afresh.
   */
  async #redialled(proc: LineCoprocess, names: readonly string[]): Promise<boolean> {
    const first = this.#dialling?.proc !== proc;
    if (first) {
      try {
        await proc.write(`${names.join(" ")}\n`);
      } catch {
        await this.#failed(proc, "session closed");
        return false;
      }
      this.#dialling = { proc, sinceS: this.#clock.monotonicS() };
    }
    const got = await proc.nextLine("stdout", first ? this.#timeoutMs : 0);
    if (got === "timeout") {
      const waitedMs = (this.#clock.monotonicS() - this.#dialling!.sinceS) * 1000;
      if (waitedMs < this.#redialTimeoutMs) return false;
      await this.#failed(proc, `no answer within ${this.#redialTimeoutMs} ms`);
      return false;
    }
    this.#dialling = undefined;
    if (got === null) {
      await this.#failed(proc, "session ended");
      return false;
    }
    this.#answered = proc;
    return true;
  }

  async #failed(proc: LineCoprocess, what: string): Promise<void> {
    if (this.#dialling?.proc === proc) this.#dialling = undefined;
    this.#outage(what);
    await this.#supervisor.fail(proc);
    // Its stderr is all read once it has ended.
    this.#explainRefusal();
  }

  /**
   * A session that ended because the router refused it (its host key changed, the key no longer
   * authorized) is logged at ERROR naming the setting to fix, once per refusal and outage: the
   * outage's WARN cannot say it, and the redials, at most two a minute, go on until it is fixed
   * (docs/remote.md, "Start-up and faults").
   */
  #explainRefusal(): void {
    const said = { code: SSH_FAILED, stdout: "", stderr: this.#sshErr.join("\n") };
    this.#sshErr.length = 0;
    const kind = sshFailureKind(said);
    if (kind !== "host-key" && kind !== "refused-key") return;
    if (this.#refusal === kind) return;
    this.#refusal = kind;
    this.#logger?.error("counters on {host}: {why}; redialling until it is fixed", {
      host: this.#host,
      why: explainSshFailure(said, this.#settings),
    });
  }

  /** Logs the start of an outage once; later failures of the same outage only at DEBUG. */
  #outage(what: string): void {
    this.#link?.lost();
    if (this.#outageSince === undefined) {
      this.#outageSince = this.#clock.monotonicS();
      this.#logger?.warn(
        "counters on {host} unreadable ({what}); holding the rates and redialling",
        { host: this.#host, what },
      );
    } else {
      this.#logger?.debug("counters on {host} still unreadable ({what})", {
        host: this.#host,
        what,
      });
    }
  }

  /** Ends the session (at once when it is still dialling: nothing to finish then). */
  async close(): Promise<void> {
    await this.#queue;
    await this.#supervisor.close(this.#outageSince === undefined ? this.#timeoutMs : 0);
  }
}
