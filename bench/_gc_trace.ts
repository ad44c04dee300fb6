/**
 * V8's `--trace-gc` lines in a daemon's output, for the footprint bench's long runs
 * (docs/footprint.md, "Long runs under load"): how many collections of each kind ran, the heap
 * after the last one and the largest heap a collection started from, and which lines are the
 * daemon's own (the log lines a router keeps).
 */

/** One `--trace-gc` line: `[PID:0xISOLATE]  T ms: KIND B (BC) -> A (AC) MB, …`. */
export interface GcEvent {
  /** ms since the isolate started. */
  readonly ms: number;
  /** `Scavenge`, `Mark-Compact`, `Incremental Mark-Compact (reduce)`, `Minor Mark-Sweep`, … */
  readonly kind: string;
  /** Heap size before the collection, MB (V8's MB: 2^20 bytes). */
  readonly beforeMb: number;
  /** Heap size after it, MB. */
  readonly afterMb: number;
}

const GC_LINE =
  /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: ([A-Za-z -]+?(?: \([a-z ]+\))?) ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** The event of one `--trace-gc` line; `undefined` for any other line. */
export function parseGcLine(line: string): GcEvent | undefined {
  const m = GC_LINE.exec(line);
  if (m === null) return undefined;
  return { ms: Number(m[1]), kind: m[2], beforeMb: Number(m[3]), afterMb: Number(m[5]) };
}

/** What a daemon's output says about its collections, and how many lines are its own. */
export interface GcSummary {
  /** Scavenges (young generation). */
  readonly scavenges: number;
  /** Full collections (every kind with `Mark-Compact`, incremental or not). */
  readonly markCompacts: number;
  /** The largest heap a full collection started from, MB (0 without one). */
  readonly largestBeforeMarkCompactMb: number;
  /** Heap after the last collection of any kind, MB (NaN without one). */
  readonly lastAfterMb: number;
  /** Lines that are not `--trace-gc` lines: the daemon's own log. */
  readonly ownLines: number;
}

/** Summarises a daemon's output (`--trace-gc` lines and the rest). */
export function summariseGc(text: string): GcSummary {
  let scavenges = 0;
  let markCompacts = 0;
  let largest = 0;
  let lastAfterMb = NaN;
  let ownLines = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const e = parseGcLine(line);
    if (e === undefined) {
      ownLines++;
      continue;
    }
    lastAfterMb = e.afterMb;
    if (e.kind === "Scavenge") scavenges++;
    if (e.kind.includes("Mark-Compact")) {
      markCompacts++;
      largest = Math.max(largest, e.beforeMb);
    }
  }
  return { scavenges, markCompacts, largestBeforeMarkCompactMb: largest, lastAfterMb, ownLines };
}
