/**
 * Link statistics from the kernel's own files, through bind mounts of `/sys/class/net/IF` at
 * `DIR/IF` that the service makes (setting `counters_dir`; docs/footprint.md, "The counters from
 * /sys"). Deno refuses /sys itself, not a bind mount of it. Each reading is four `read`s of files
 * kept open instead of a request to the `ip` coprocess: about 0.25 ms less CPU per reading.
 *
 * A mount does not follow the interface: when the device is deleted (and created again, as a
 * PPPoE session's or sqm-scripts' IFB is), its open files read ENODEV and the mount shows nothing.
 * Any failure hands that reading to `ip` at once, and the files are tried again every
 * {@linkcode SYSFS_RETRY_S} seconds; each time the files are (re)opened, and every
 * {@linkcode SYSFS_RETRY_S} seconds while they work, a reading is also taken from `ip` and the
 * files' ifindex must be the one `ip` gives for the name (a mount of another or an old device is
 * refused).
 *
 * A reading from the files takes one turn of the event loop (a 0 ms timer) before it answers, as a
 * reading from `ip` does while it waits for the answer: the control loop relies on that turn to take
 * in the pinger's lines that arrived while the thread was blocked (src/control/loop.ts, `tick`).
 * Without it the deltas missed them, reflectors looked stale and were reselected every few seconds
 * (docs/footprint.md, "Sixteenth session").
 */
import type { Logger } from "../log/logger.ts";
import type { CounterReadOptions } from "../control/ports.ts";
import { type Clock, isDue, systemClock } from "../util/clock.ts";
import type { LinkStatsSource } from "./ip_link.ts";
import type { LinkStats } from "./types.ts";

/** One turn of the event loop: timers and ready I/O (the pinger's lines) are taken in. */
export function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Seconds between attempts to use the files again after a failure, and between ifindex checks. */
export const SYSFS_RETRY_S = 30;

/** Options of {@linkcode SysfsLinkSource}. */
export interface SysfsSourceOptions {
  /** Where readings come from while the files fail (the `ip` coprocess). */
  fallback: LinkStatsSource;
  /** Time of the retries (default the system clock). */
  clock?: Clock;
  /** The turn of the event loop a reading from the files takes (default {@linkcode eventLoopTurn}). */
  turn?: () => Promise<void>;
  /** Seconds between retries and ifindex checks (default {@linkcode SYSFS_RETRY_S}). */
  retryS?: number;
  /** WARN when the files fail, INFO when they work again. */
  logger?: Logger;
}

/** The open files of one interface. */
interface LinkFiles {
  readonly rx: Deno.FsFile;
  readonly tx: Deno.FsFile;
  /** Read once at opening: an open file belongs to one device for its whole life. */
  readonly ifindex: number;
}

/** A name that would leave `DIR/NAME` (Linux refuses `/` in interface names anyway). */
const BAD_NAME = /^\.{0,2}$|\//;

const NEWLINE = 10;
const ZERO = 48;

/**
 * The decimal number of a sysfs counter file's `bytes` (`"123\n"`); throws on anything else (an
 * empty read, a sign, a space) so that a broken file is never taken as a counter.
 */
export function parseSysfsNumber(bytes: Uint8Array, length: number): number {
  let end = length;
  if (end > 0 && bytes[end - 1] === NEWLINE) end--;
  if (end === 0) throw new Error("empty counter file");
  let value = 0;
  for (let i = 0; i < end; i++) {
    const d = bytes[i] - ZERO;
    if (d < 0 || d > 9) throw new Error("counter file is not a decimal number");
    value = value * 10 + d;
  }
  return value;
}

/**
 * Counters from `DIR/IF/statistics/{rx,tx}_bytes` and `DIR/IF/ifindex`, falling back to another
 * source (see the module comment). The counters are the same as `ip`'s (`stats64`: both are the
 * kernel's `rtnl_link_stats64`), so the direction rule is unchanged.
 */
export class SysfsLinkSource implements LinkStatsSource {
  readonly #dir: string;
  readonly #fallback: LinkStatsSource;
  readonly #clock: Clock;
  readonly #retryS: number;
  readonly #logger?: Logger;
  readonly #turn: () => Promise<void>;
  readonly #files = new Map<string, LinkFiles>();
  readonly #buf = new Uint8Array(32);
  /** The files gave the last reading (checked against `ip` when they were opened). */
  #working = false;
  /** A failure was logged at WARN and the files have not worked since. */
  #warned = false;
  /** When the files are tried again (after a failure) or checked against `ip` (while working). */
  #nextS = -Infinity;
  /** Files were opened since the last check against `ip`. */
  #unchecked = false;
  #closed = false;

  /** Reads the interfaces' files under `dir`; nothing is opened before the first reading. */
  constructor(dir: string, options: SysfsSourceOptions) {
    this.#dir = dir.endsWith("/") && dir.length > 1 ? dir.slice(0, -1) : dir;
    this.#fallback = options.fallback;
    this.#clock = options.clock ?? systemClock;
    this.#retryS = options.retryS ?? SYSFS_RETRY_S;
    this.#logger = options.logger;
    this.#turn = options.turn ?? eventLoopTurn;
  }

  /** Whether the last reading came from the files (tests, benchmarks). */
  get usingFiles(): boolean {
    return this.#working;
  }

  /** One reading from the files, or from the fallback when they fail or are being retried. */
  async stats(
    names: readonly string[],
    options: CounterReadOptions = {},
  ): Promise<Map<string, LinkStats> | null> {
    if (this.#closed) return null;
    const now = this.#clock.monotonicS();
    if (!this.#working && !isDue(now, this.#nextS)) return this.#fallback.stats(names, options);
    let fromIp: Map<string, LinkStats> | null | undefined;
    try {
      const out = this.#readFiles(names);
      if (this.#working && !this.#unchecked && !isDue(now, this.#nextS)) {
        await this.#turn();
        return out;
      }
      // Opened now, or time for the periodic check: the files must be `ip`'s devices.
      fromIp = await this.#fallback.stats(names, options);
      if (fromIp === null) return null;
      for (const [name, stats] of out) {
        const ip = fromIp.get(name);
        if (ip?.ifindex !== stats.ifindex) {
          throw new Error(
            `${this.#dir}/${name} is ifindex ${stats.ifindex} but ip gives ${
              ip === undefined ? "no such interface" : `ifindex ${ip.ifindex}`
            } (a mount of an old device?)`,
          );
        }
      }
      this.#nextS = now + this.#retryS;
      this.#unchecked = false;
      if (!this.#working && this.#warned) {
        this.#logger?.info("counters read from {dir} again", { dir: this.#dir });
      }
      this.#working = true;
      this.#warned = false;
      return out;
    } catch (e) {
      this.#fail(now, e);
    }
    return fromIp !== undefined ? fromIp : this.#fallback.stats(names, options);
  }

  /** The files' reading of `names`; throws on any failure (a name it cannot open, ENODEV). */
  #readFiles(names: readonly string[]): Map<string, LinkStats> {
    const out = new Map<string, LinkStats>();
    for (const name of names) {
      const f = this.#files.get(name) ?? this.#open(name);
      out.set(name, { ifindex: f.ifindex, rx: this.#read(f.rx), tx: this.#read(f.tx) });
    }
    return out;
  }

  #read(file: Deno.FsFile): number {
    file.seekSync(0, Deno.SeekMode.Start);
    const n = file.readSync(this.#buf);
    return parseSysfsNumber(this.#buf, n ?? 0);
  }

  #open(name: string): LinkFiles {
    if (BAD_NAME.test(name)) throw new Error(`interface name ${JSON.stringify(name)}`);
    const base = `${this.#dir}/${name}`;
    const ifindex = parseSysfsNumber(...this.#whole(`${base}/ifindex`));
    const rx = Deno.openSync(`${base}/statistics/rx_bytes`);
    let tx;
    try {
      tx = Deno.openSync(`${base}/statistics/tx_bytes`);
    } catch (e) {
      rx.close();
      throw e;
    }
    const files = { rx, tx, ifindex };
    this.#files.set(name, files);
    this.#unchecked = true;
    return files;
  }

  #whole(path: string): [Uint8Array, number] {
    const bytes = Deno.readFileSync(path);
    return [bytes, bytes.length];
  }

  #fail(now: number, e: unknown): void {
    this.#closeFiles();
    this.#nextS = now + this.#retryS;
    const properties = {
      dir: this.#dir,
      error: (e as Error)?.message ?? String(e),
      s: this.#retryS,
    };
    const message = "cannot read the counters from {dir} ({error}): reading them with ip, " +
      "trying the files again every {s} s";
    if (this.#warned) this.#logger?.debug(message, properties);
    else this.#logger?.warn(message, properties);
    this.#warned = true;
    this.#working = false;
  }

  #closeFiles(): void {
    for (const f of this.#files.values()) {
      for (const file of [f.rx, f.tx]) {
        try {
          file.close();
        } catch {
          // Already closed.
        }
      }
    }
    this.#files.clear();
  }

  /** Closes the files and the fallback. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closeFiles();
    await this.#fallback.close();
  }
}
