import type { SlowProbes } from "../reflectors/silent_watch.ts";

/** The pinger tools this project can drive (docs/algorithm.md §3). */
export type PingerTool = "tsping" | "fping" | "ping";

/** What a probe measures: ICMP timestamps (separate up/down OWD) or echo (RTT/2 each way). */
export type ProbeMode = "timestamp" | "echo";

/** One reply as delivered to the baseliner (docs/algorithm.md §2: a sample). */
export interface PingReply {
  /** Reflector address as printed by the tool. */
  reflector: string;
  /** The tool's sequence number for this reflector (or round). */
  seq: number;
  /** Round-trip time, ms. */
  rttMs: number;
  /** Upload one-way delay, ms (rtt/2 in echo mode). */
  upMs: number;
  /** Download one-way delay, ms (rtt/2 in echo mode). */
  downMs: number;
  /**
   * Injected monotonic clock (s) when the reply was received: when its line was read, less how
   * long it waited in the pipe by the time the tool printed on it (src/measure/pinger.ts).
   */
  receiveTimeS: number;
}

/** A parsed line before the receive time is attached. */
export type ParsedReply = Omit<PingReply, "receiveTimeS">;

/** Why a line did not give a reply. Stable names: they are counters and log keys. */
export type SkipReason =
  | "empty"
  | "header"
  | "summary"
  | "timeout"
  | "icmp-error"
  | "error"
  | "duplicate"
  | "unknown";

/** Result of parsing one line: a reply or the reason it was skipped. */
export type ParseResult =
  | { readonly kind: "reply"; readonly reply: ParsedReply }
  | { readonly kind: "skip"; readonly reason: SkipReason };

/** A pure line parser for one tool and mode. Never throws. */
export type LineParser = (line: string) => ParseResult;

export type { SlowProbes };

/** How a reflector set is probed. */
export interface ProbePlan {
  /** Probe period per reflector, s (default the tick; a short set's is shorter). */
  readonly periodS?: number;
  /** Some of the set probed apart at a slower period. */
  readonly slow?: SlowProbes;
}
