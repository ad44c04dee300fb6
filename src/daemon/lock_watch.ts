/**
 * Keeps the interface locks in place while the daemon runs: a lock file removed under it (`rm -rf`
 * of `state_dir`, which is also where non-default statistics files and plots go) left its flock on
 * a deleted file, and a second daemon started then locked a new file of the same name and shaped
 * the same interface (docs/operation.md, "One daemon per interface").
 */
import type { Logger } from "../log/logger.ts";
import { isDue } from "../util/clock.ts";
import type { InstanceLock, LockRenewal } from "./instance_lock.ts";

/** How often the lock files are looked at, s (one `stat` per interface). */
export const LOCK_CHECK_S = 30;

/** Looks at the lock files every `LOCK_CHECK_S` of the ticks' clock and logs what it finds. */
export class LockWatch {
  readonly #lock: InstanceLock;
  readonly #log: Logger;
  readonly #periodS: number;
  #nextS: number | undefined;
  /** The last problem logged per lock file, so that a lasting one is logged once. */
  readonly #reported = new Map<string, string>();

  /** `periodS` defaults to {@linkcode LOCK_CHECK_S}. */
  constructor(lock: InstanceLock, options: { log: Logger; periodS?: number }) {
    this.#lock = lock;
    this.#log = options.log;
    this.#periodS = options.periodS ?? LOCK_CHECK_S;
  }

  /** Called after every tick: looks at the lock files when a look is due. */
  tick(nowS: number): void {
    this.#nextS ??= nowS + this.#periodS;
    if (!isDue(nowS, this.#nextS)) return;
    this.#nextS = nowS + this.#periodS;
    try {
      this.#report(this.#lock.renew());
    } catch (e) {
      this.#log.debug("looking at the lock files failed: {error}", { error: String(e) });
    }
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
      const problem = r.outcome === "taken"
        ? `another sqm-autorate (PID ${
          r.holderPid ?? "unknown"
        }) locked it after it was removed: two daemons may be shaping this interface; stop one`
        : `it cannot be made again (${r.error}); retrying every ${this.#periodS} s`;
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
