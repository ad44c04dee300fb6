/** A shaper that only remembers rates: for the simulator and tests. */
import { ShaperCheckError, ShaperError } from "./shaper.ts";
import type { Shaper, ShaperKind } from "../control/ports.ts";

/** An in-memory shaper; `failNext`/`failing` simulate tc errors. */
export class MemoryShaper implements Shaper {
  /** Reported kind. */
  readonly kind: ShaperKind;
  /** Interface name. */
  readonly ifname: string;
  /** Every rate successfully set, in order. */
  readonly history: number[] = [];
  /** Number of `setRate` calls, including failed ones. */
  calls = 0;
  /** While true, every `setRate` fails. */
  failing = false;
  /** While false, `check` fails as if the interface were missing. */
  present = true;
  #rate: number;

  /** Starts at `initialKbit`. */
  constructor(ifname: string, options: { kind?: ShaperKind; initialKbit?: number } = {}) {
    this.ifname = ifname;
    this.kind = options.kind ?? "cake";
    this.#rate = options.initialKbit ?? 0;
  }

  /** Current rate (kbit/s). */
  get rate(): number {
    return this.#rate;
  }

  /** Records the rate or fails like tc would. */
  setRate(kbit: number): Promise<void> {
    this.calls++;
    if (this.failing) {
      return Promise.reject(
        new ShaperError(this.ifname, ["tc", "fake"], 2, "RTNETLINK answers: simulated failure"),
      );
    }
    this.#rate = kbit;
    this.history.push(kbit);
    return Promise.resolve();
  }

  /** Succeeds unless `present` is false. */
  check(): Promise<void> {
    if (!this.present) {
      return Promise.reject(
        new ShaperCheckError("missing-interface", `interface ${this.ifname} does not exist`),
      );
    }
    return Promise.resolve();
  }

  /** The current rate. */
  readRate(): Promise<number> {
    return Promise.resolve(this.#rate);
  }
}
