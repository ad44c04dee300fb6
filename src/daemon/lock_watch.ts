/**
 * Keeps the interface locks in place while the daemon runs: a lock file removed under it (`rm -rf`
 * of `state_dir`, which is also where non-default statistics files and plots go) left its flock on
 * a deleted file, and a second daemon started then locked a new file of the same name and shaped
 * the same interface (docs/operation.md, "One daemon per interface").
 *
 * The files are looked at every `min_change_interval` (a `stat` of each and of the file held), so a
 * removed one is back within that time; a look every 30 s left it 30 s. Above `LOCK_LOOK_MAX_S`
 * the watch looks that often on its own timer: a second daemon's file is taken back only within a
 * second of its making.
 * Not after every tick: `capacity` ticks every 0.1 s under load, and under the release permission
 * set a look is two path checks (a `readlink` per component each) and four stats, 17 µs hot and
 * about 150 µs after a tick's wait, so looks at every tick cost about 0.1 points of a core
 * (docs/footprint.md, "Twenty-fourth session"). A kernel watch (inotify, `Deno.watchFs`) would be
 * told at the same turn of the event loop, but Deno cannot watch a path again once its directory
 * was removed, which is the case to cover (docs/operation.md). A lock another process took, or one
 * that cannot be made, is tried again every `LOCK_RETRY_S` only: that look opens the file. A second
 * daemon that made a new file there since the last look is made to give way (`LOCK_CLAIM_S`).
 */
import type { Logger } from "../log/logger.ts";
import { isDue } from "../util/clock.ts";
import type { InstanceLock, LockRenewal } from "./instance_lock.ts";
import { realTimeoutTimers, type TimeoutTimers } from "../util/rearmable_timeout.ts";

/** How often a lock file that could not be made and locked again is tried again, s. */
export const LOCK_RETRY_S = 30;

/**
 * Share of `everyS` by which a look may come early: the ticks that call {@linkcode LockWatch.tick}
 * end a few milliseconds off their schedule, and a look due 1 ms after a tick would otherwise wait
 * a whole tick more (EWMA's look every 0.5 s would become every 1 s).
 */
const EARLY_SHARE = 0.1;

/**
 * The longest time between two looks while the files are in place, s: a running daemon takes its
 * file back only while a second daemon's file is younger than a second (`LOCK_CLAIM_S` less half a
 * second), so with a `min_change_interval` above this the watch looks on a timer of its own
 * (docs/operation.md, "One daemon per interface"); at the default 0.5 s the ticks suffice and no
 * timer wakes the daemon (docs/footprint.md, "Twenty-fourth session").
 */
export const LOCK_LOOK_MAX_S = 0.5;

/** Options of {@linkcode LockWatch}. */
export interface LockWatchOptions {
  /** Where findings are logged. */
  log: Logger;
  /** How often a lasting problem is tried again, s (default {@linkcode LOCK_RETRY_S}). */
  retryS?: number;
  /**
   * How often the files are looked at while they are in place, s: the daemon's
   * `min_change_interval` (default 0: after every tick). Above {@linkcode LOCK_LOOK_MAX_S},
   * with `now`, the watch looks every `LOCK_LOOK_MAX_S` on a timer of its own.
   */
  everyS?: number;
  /** The monotonic clock, s: with it, a timer of the watch's own when `everyS` needs one. */
  now?: () => number;
  /** Timers of that timer (default: the real ones; tests). */
  timers?: TimeoutTimers;
}

/** Looks at the lock files every `everyS` (called after every tick) and logs what it finds. */
export class LockWatch {
  readonly #lock: InstanceLock;
  readonly #log: Logger;
  readonly #retryS: number;
  readonly #everyS: number;
  /** When the next look is due: `everyS` after the last, or the retry of a lasting problem. */
  #lookAtS: number | undefined;
  /** The last problem logged per lock file, so that a lasting one is logged once. */
  readonly #reported = new Map<string, string>();
  /** The watch's own timer (`everyS` above `LOCK_LOOK_MAX_S`), until `close()`. */
  #timer: unknown;
  readonly #timers: TimeoutTimers;

  /** The watch of `lock`'s files; with `now` and a long `everyS`, its timer starts now. */
  constructor(lock: InstanceLock, options: LockWatchOptions) {
    this.#lock = lock;
    this.#log = options.log;
    this.#retryS = options.retryS ?? LOCK_RETRY_S;
    this.#timers = options.timers ?? realTimeoutTimers;
    const everyS = options.everyS ?? 0;
    const now = options.now;
    this.#everyS = now === undefined ? everyS : Math.min(everyS, LOCK_LOOK_MAX_S);
    if (now !== undefined && everyS > LOCK_LOOK_MAX_S) this.#arm(now);
  }

  /** Looks every `LOCK_LOOK_MAX_S` between the ticks (a tick's look moves the next one). */
  #arm(now: () => number): void {
    this.#timer = this.#timers.setTimeout(() => {
      this.tick(now());
      if (this.#timer !== undefined) this.#arm(now);
    }, LOCK_LOOK_MAX_S * 1000);
    // The daemon's end is its signal's business, not this timer's.
    if (typeof this.#timer === "number") Deno.unrefTimer(this.#timer);
  }

  /** Stops the watch's own timer (the daemon stops). */
  close(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Called after every tick: looks at the lock files when a look is due. */
  tick(nowS: number): void {
    if (this.#lookAtS !== undefined && !isDue(nowS, this.#lookAtS)) return;
    try {
      this.#report(this.#lock.renew());
    } catch (e) {
      this.#log.debug("looking at the lock files failed: {error}", { error: String(e) });
    }
    this.#lookAtS = this.#reported.size > 0
      ? nowS + this.#retryS
      : nowS + this.#everyS * (1 - EARLY_SHARE);
  }

  #report(found: LockRenewal[]): void {
    const seen = new Set<string>();
    for (const r of found) {
      seen.add(r.path);
      if (r.outcome === "relocked") {
        this.#reported.delete(r.path);
        this.#log.warn(
          "the lock file {path} was removed or replaced: made it again and locked it",
          { path: r.path },
        );
        if (r.pidNotWritten !== undefined) {
          this.#log.warn("cannot write the PID into {why} (the interface is locked all the same)", {
            why: r.pidNotWritten,
          });
        }
        continue;
      }
      if (r.outcome === "reclaimed") {
        this.#reported.delete(r.path);
        this.#log.warn(
          "the lock file {path} was removed and another sqm-autorate (PID {pid}) locked a new " +
            "one at once: took it back (that one exits 75 before it shapes)",
          { path: r.path, pid: r.holderPid ?? "unknown" },
        );
        continue;
      }
      const problem = r.outcome === "taken"
        ? `another sqm-autorate (PID ${
          r.holderPid ?? "unknown"
        }) locked it after it was removed: two daemons may be shaping this interface; stop one`
        : `it cannot be made again (${r.error}); retrying every ${this.#retryS} s`;
      const values = { path: r.path, problem };
      if (this.#reported.get(r.path) === problem) {
        this.#log.debug("the lock file {path} is not in place: {problem}", values);
      } else this.#log.error("the lock file {path} is not in place: {problem}", values);
      this.#reported.set(r.path, problem);
    }
    for (const path of [...this.#reported.keys()]) {
      if (!seen.has(path)) this.#reported.delete(path);
    }
  }
}
