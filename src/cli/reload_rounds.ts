/**
 * Which configuration the daemon's next round runs, across SIGHUP re-reads (docs/operation.md,
 * "A configuration re-read on SIGHUP"): a re-read configuration that passed its checks replaces
 * the running one; if it then fails before control starts, the one in force before it runs
 * again; once it has started control, a later failure is its own and ends the daemon.
 */
import { ExitCode } from "../util/exit_codes.ts";

/** What follows a round that ended without a stop signal. */
export type RoundEnd = "reload" | "fallback" | "exit";

/** The configurations of `run`'s rounds (`T`: a resolved configuration). */
export class ReloadRounds<T> {
  #current: T;
  /** The configuration before the last reload, until the reloaded one starts control. */
  #previous: T | undefined;
  /** A re-read configuration that passed its checks, waiting for the round to end. */
  #pending: T | undefined;

  /** `first` runs the first round. */
  constructor(first: T) {
    this.#current = first;
  }

  /** The configuration of the running (or next) round. */
  get current(): T {
    return this.#current;
  }

  /** The newest configuration: a re-read one waiting for the round to end, else the current. */
  get newest(): T {
    return this.#pending ?? this.#current;
  }

  /** A re-read configuration passed its checks: the running round ends for it. */
  reloaded(next: T): void {
    this.#pending = next;
  }

  /**
   * A re-read configuration applied to the running daemon without a restart (only its logging
   * changed): it replaces the newest one, so the next SIGHUP compares with it.
   */
  amended(next: T): void {
    if (this.#pending !== undefined) this.#pending = next;
    else this.#current = next;
  }

  /** The round's daemon started control: from now on a failure is its configuration's own. */
  started(): void {
    this.#previous = undefined;
  }

  /** The round ended with `code`; `current` is then the configuration of the next round. */
  ended(code: number): RoundEnd {
    if (this.#pending !== undefined) {
      if (code === ExitCode.OK) this.#previous = this.#current;
      this.#current = this.#pending;
      this.#pending = undefined;
      return "reload";
    }
    if (code !== ExitCode.OK && code !== ExitCode.FAILURE && this.#previous !== undefined) {
      this.#current = this.#previous;
      this.#previous = undefined;
      return "fallback";
    }
    return "exit";
  }
}
