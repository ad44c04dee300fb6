/**
 * Holds a controller's small rate increases back until they add up: every rate handed to the loop
 * that differs from the one in force is one `tc` call, and a probe in 0.1 s steps of a fraction of
 * a percent would make one every decision (docs/controllers.md, "Step gate"). A decrease is never
 * held: the shaper is never left above the rate the controller wants.
 */

/** One direction's gate. */
export class StepGate {
  /** The controller's own rate, kbit/s: where its next step starts (NaN: none yet). */
  #own = NaN;
  /** The rate last handed to the loop, kbit/s. */
  #handed = NaN;

  /** @param minStep Smallest increase handed on, as a fraction of the rate in force (0: all). */
  constructor(readonly minStep: number) {}

  /**
   * The rate the controller goes on from: its own, while the rate in force is the one it handed
   * on (the loop floors rates to whole kbit/s); else the rate in force (a failed change, a clamp,
   * a plugin's adjustment, a restart), which then becomes its own.
   */
  from(cur: number): number {
    if (this.minStep > 0 && Math.floor(this.#handed) === cur) return this.#own;
    this.#own = cur;
    return cur;
  }

  /**
   * The rate to hand to the loop for the controller's `next`: `next` when it is below the rate in
   * force `cur` or above it by at least `minStep` of it, else `cur`, keeping `next` as the
   * controller's own rate.
   */
  pass(cur: number, next: number): number {
    this.#own = next;
    const held = next >= cur && next - cur < this.minStep * cur;
    this.#handed = held ? cur : next;
    return this.#handed;
  }
}
