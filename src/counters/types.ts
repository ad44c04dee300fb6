/** Byte counter contracts. */

/** Both interfaces' byte counters at one instant. */
export interface CounterReading {
  /** Bytes counted in the download direction (see `counterDirections`). */
  dlBytes: number;
  /** Bytes counted in the upload direction. */
  ulBytes: number;
  /** Interface index of the download interface; a change means the interface was recreated. */
  dlIfindex?: number;
  /** Interface index of the upload interface. */
  ulIfindex?: number;
}

/** Reads the byte counters; `null` when an interface is missing or unreadable. Never throws. */
export interface CounterReader {
  /** One reading of both interfaces. */
  read(): Promise<CounterReading | null>;
  /** Stops helper processes (reaps them). */
  close?(): Promise<void>;
}

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
