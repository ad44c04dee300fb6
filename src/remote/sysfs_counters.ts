/**
 * Byte counters of the router's interfaces over one long-lived SSH session (docs/remote.md).
 * Stock OpenWrt has BusyBox `ip` without `-j`, but `/sys/class/net/IF/` is always there; a small
 * shell loop on the router reads it with the shell's own `read` (no process per reading there
 * either) and answers each request line with one line.
 */
import type { Logger } from "@logtape/logtape";
import type { LinkStatsSource } from "../counters/ip_link.ts";
import type { LinkStats } from "../counters/types.ts";
import { LineCoprocess } from "../util/coprocess.ts";
import { type RemoteSettings, shellQuote, sshArgv, type SshArgvOptions } from "./ssh.ts";

/**
 * The router-side loop: reads interface names from a line, answers `OK` followed by
 * `name ifindex rx_bytes tx_bytes` for each interface that exists.
 */
export const SYSFS_READER_SCRIPT = [
  "while read -r names; do",
  "out=OK;",
  "for n in $names; do",
  "d=/sys/class/net/$n;",
  'if read -r i < "$d/ifindex" && read -r rx < "$d/statistics/rx_bytes"',
  '&& read -r tx < "$d/statistics/tx_bytes"; then out="$out $n $i $rx $tx"; fi;',
  "done 2>/dev/null;",
  'echo "$out";',
  "done",
].join(" ");

/** Interface names the reader sends to the router's shell: what a kernel name normally uses. */
const SAFE_IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

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
  /** Wait for the first answer of a new session, connection included (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Logger for connection trouble. */
  logger?: Logger;
  /** The full command instead of ssh (tests run the loop in a local `sh`). */
  argv?: readonly string[];
}

/** Link statistics read on the router through one SSH session. */
export class SysfsSshSource implements LinkStatsSource {
  readonly #proc: LineCoprocess;
  readonly #logger?: Logger;
  #warnedNames = false;

  /** The session starts on the first reading. */
  constructor(settings: RemoteSettings, options: SysfsSshOptions = {}) {
    const argv = options.argv ??
      [...sshArgv(settings, options), `sh -c ${shellQuote(SYSFS_READER_SCRIPT)}`];
    this.#proc = new LineCoprocess(argv, {
      name: `counters on ${settings.remote || "the router"}`,
      timeoutMs: options.timeoutMs ?? 1000,
      startTimeoutMs: options.connectTimeoutMs ?? 5000,
      backoffMs: 1000,
      logger: options.logger,
      onStderr: (text) => options.logger?.debug("ssh (counters): {text}", { text }),
    });
    this.#logger = options.logger;
  }

  /** How many times the session was opened again (tests, metrics). */
  get restarts(): number {
    return this.#proc.restarts;
  }

  /** Reads the named interfaces; names a kernel would not use are reported missing. */
  async stats(names: readonly string[]): Promise<Map<string, LinkStats> | null> {
    const safe = names.filter((n) => SAFE_IFNAME.test(n));
    if (safe.length !== names.length && !this.#warnedNames) {
      this.#warnedNames = true;
      this.#logger?.error("interface names not readable on the router: {names}", {
        names: names.filter((n) => !SAFE_IFNAME.test(n)).join(", "),
      });
    }
    const answer = await this.#proc.request(safe.join(" "));
    if (!answer.ok) return null;
    const parsed = parseSysfsAnswer(answer.line);
    if (parsed === null) {
      this.#logger?.warn("unexpected answer from the router's counter reader: {line}", {
        line: answer.line.slice(0, 200),
      });
    }
    return parsed;
  }

  /** Ends the session. */
  close(): Promise<void> {
    return this.#proc.close();
  }
}
