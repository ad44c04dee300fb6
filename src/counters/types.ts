/** Byte counter contracts. */

/** Which kernel counter of an interface measures the wanted direction. */
export type CounterSide = "rx" | "tx";

/** One interface's counters. */
export interface LinkStats {
  /** Interface index. */
  ifindex: number;
  /** Received bytes. */
  rx: number;
  /** Transmitted bytes. */
  tx: number;
}
