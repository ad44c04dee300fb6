/**
 * Pure line parsers for the pinger tools (docs/algorithm.md §3). Each takes one stdout line and
 * returns a reply or the reason it was skipped; none of them throws, whatever the input.
 */
import type { LineParser, ParsedReply, ParseResult, ProbeMode, SkipReason } from "./types.ts";

/** Half a day in ms: OWDs beyond ± this are taken as a midnight wrap (docs/algorithm.md §3.5). */
export const HALF_DAY_MS = 43_200_000;
/** A day in ms: the period of the ms-since-midnight timestamps. */
export const DAY_MS = 86_400_000;

/** Unwraps a timestamp-derived OWD that straddled midnight on either clock. */
export function unwrapOwd(ms: number): number {
  if (ms < -HALF_DAY_MS) return ms + DAY_MS;
  if (ms > HALF_DAY_MS) return ms - DAY_MS;
  return ms;
}

function skip(reason: SkipReason): ParseResult {
  return { kind: "skip", reason };
}

function reply(r: ParsedReply): ParseResult {
  if (!Number.isFinite(r.rttMs) || !Number.isFinite(r.upMs) || !Number.isFinite(r.downMs)) {
    return skip("unknown");
  }
  if (!Number.isSafeInteger(r.seq) || r.reflector.length === 0) return skip("unknown");
  return { kind: "reply", reply: r };
}

function echoReply(reflector: string, seq: number, rttMs: number): ParseResult {
  return reply({ reflector, seq, rttMs, upMs: rttMs / 2, downMs: rttMs / 2 });
}

// fping: `[ts] host : [seq], size bytes, rtt ms (avg avg, n% loss)` (+ timestamps tail).
const FPING_REPLY =
  /^(?:\[\d+(?:\.\d+)?\]\s+)?(\S+)\s+:\s+\[(\d+)\],\s+(\d+)\s+bytes,\s+(\d+(?:\.\d+)?)\s+ms\s+\(/;
const FPING_TS_TAIL = /timestamps:\s+Originate=(\d+)\s+Receive=(\d+)\s+Transmit=(\d+)/;
const FPING_TIMEOUT = /^(?:\[\d+(?:\.\d+)?\]\s+)?\S+\s+:\s+\[\d+\],\s+timed out\b/;
const FPING_SUMMARY = /^\S+\s+:\s+xmt\/rcv\/%loss\s+=/;

/**
 * Parses an fping `-D -l` line. In `timestamp` mode (fping ≥ 5.3 `--icmp-timestamp`) the line
 * must carry the timestamps tail; up = Receive − Originate and down = (Originate + rtt) −
 * Transmit. Localreceive is deliberately not used: it comes from fping's receive timestamp
 * rather than the clock that produced Originate, so Originate + the measured rtt is the
 * consistent local receive time (and older/newer builds that print it differently still work).
 */
export function parseFpingLine(line: string, mode: ProbeMode = "echo"): ParseResult {
  const text = line.trim();
  if (text === "") return skip("empty");
  const m = FPING_REPLY.exec(text);
  if (m) {
    const rtt = Number(m[4]);
    if (mode === "echo") return echoReply(m[1], Number(m[2]), rtt);
    const ts = FPING_TS_TAIL.exec(text);
    if (!ts) return skip("unknown");
    const originate = Number(ts[1]);
    const up = unwrapOwd(Number(ts[2]) - originate);
    const down = rtt - unwrapOwd(Number(ts[3]) - originate); // = (originate + rtt) − transmit
    return reply({ reflector: m[1], seq: Number(m[2]), rttMs: rtt, upMs: up, downMs: down });
  }
  if (FPING_TIMEOUT.test(text)) return skip("timeout");
  if (FPING_SUMMARY.test(text)) return skip("summary");
  if (text.startsWith("ICMP ")) return skip("icmp-error");
  if (text.includes("error while sending") || text.startsWith("fping:")) return skip("error");
  return skip("unknown");
}

// iputils: `[ts] 64 bytes from ip: icmp_seq=n ttl=n time=rtt ms`; ` (DUP!)` marks a duplicate.
const PING_REPLY =
  /^(?:\[\d+(?:\.\d+)?\]\s+)?\d+\s+bytes\s+from\s+([0-9A-Fa-f.:]+):\s+icmp_seq=(\d+)\s+ttl=\d+\s+time=(\d+(?:\.\d+)?)\s+ms(.*)$/;
const PING_ICMP_ERROR = /^(?:\[\d+(?:\.\d+)?\]\s+)?From\s+\S+\s+icmp_seq=\d+/;

/** Parses an iputils `ping -D -n` line (echo only). `(DUP!)` lines count as duplicates. */
export function parsePingLine(line: string): ParseResult {
  const text = line.trim();
  if (text === "") return skip("empty");
  const m = PING_REPLY.exec(text);
  if (m) {
    const tail = m[4].trim();
    if (tail.includes("DUP!")) return skip("duplicate");
    if (tail !== "") return skip("unknown"); // e.g. "(BAD CHECKSUM!)": not a trustworthy sample
    return echoReply(m[1], Number(m[2]), Number(m[3]));
  }
  if (text.startsWith("PING ")) return skip("header");
  if (PING_ICMP_ERROR.test(text)) return skip("icmp-error");
  if (
    text.startsWith("---") || /packets transmitted/.test(text) || text.startsWith("rtt ") ||
    text.startsWith("pipe ")
  ) return skip("summary");
  if (text.startsWith("ping:")) return skip("error");
  return skip("unknown");
}

const TSPING_TS =
  /^(?:\d+\.\d{6},)?(\d{1,3}(?:\.\d{1,3}){3}),(\d+),(\d+),(\d+),(\d+),(\d+),(-?\d+),(-?\d+),(-?\d+)$/;
const TSPING_ECHO = /^(?:\d+\.\d{6},)?(\d{1,3}(?:\.\d{1,3}){3}),(\d+),(-?\d+)$/;

/**
 * Parses a tsping `--print-timestamps --machine-readable=,` line: 10 fields in timestamp mode
 * (up/down are tsping's own Up/Down fields, unwrapped at midnight), 4 fields with `-e`.
 */
export function parseTspingLine(line: string, mode: ProbeMode = "timestamp"): ParseResult {
  const text = line.trim();
  if (text === "") return skip("empty");
  if (mode === "timestamp") {
    const m = TSPING_TS.exec(text);
    if (m) {
      return reply({
        reflector: m[1],
        seq: Number(m[2]),
        rttMs: unwrapOwd(Number(m[7])),
        downMs: unwrapOwd(Number(m[8])),
        upMs: unwrapOwd(Number(m[9])),
      });
    }
  } else {
    const m = TSPING_ECHO.exec(text);
    // Echo payload is ms since midnight too, so the RTT can wrap as well.
    if (m) return echoReply(m[1], Number(m[2]), unwrapOwd(Number(m[3])));
  }
  if (text.startsWith("Starting tsping")) return skip("header");
  if (
    text.startsWith("Invalid") || text.startsWith("Too long") || text.startsWith("Warning:") ||
    text.startsWith("Something went wrong") || text.startsWith("Error")
  ) return skip("error");
  return skip("unknown");
}

/** `[1700000000.123456] …` (fping `-D`, ping `-D`) or `1700000000.123456,…` (tsping). */
const LINE_WALL_TIME = /^\s*\[?(\d{9,11}\.\d+)[\],]/;

/**
 * The wall-clock time (s since the epoch) a pinger printed at the start of a reply line, if any:
 * when the tool received the reply, however long the line then waited in the pipe.
 */
export function lineWallTimeS(line: string): number | undefined {
  const m = LINE_WALL_TIME.exec(line);
  return m === null ? undefined : Number(m[1]);
}

/** The parser for a tool in a mode. */
export function parserFor(tool: "tsping" | "fping" | "ping", mode: ProbeMode): LineParser {
  switch (tool) {
    case "tsping":
      return (line) => parseTspingLine(line, mode);
    case "fping":
      return (line) => parseFpingLine(line, mode);
    case "ping":
      return parsePingLine;
  }
}

/**
 * Drops repeats of (reflector, seq) — duplicated ICMP replies (fping prints them as normal
 * lines). Remembers the last `window` keys per reflector, so wrapped sequence numbers are
 * accepted again later.
 */
export class ReplyDeduper {
  readonly #window: number;
  readonly #seen = new Map<string, { set: Set<number>; order: number[] }>();

  /** `window`: how many recent sequence numbers are remembered per reflector. */
  constructor(window = 64) {
    this.#window = window;
  }

  /** True when (reflector, seq) was seen recently; records it otherwise. */
  isDuplicate(reflector: string, seq: number): boolean {
    let entry = this.#seen.get(reflector);
    if (!entry) {
      entry = { set: new Set(), order: [] };
      this.#seen.set(reflector, entry);
    }
    if (entry.set.has(seq)) return true;
    entry.set.add(seq);
    entry.order.push(seq);
    if (entry.order.length > this.#window) entry.set.delete(entry.order.shift()!);
    return false;
  }

  /** Forgets `reflector`'s numbers: a new child probing it starts its sequence again. */
  forget(reflector: string): void {
    this.#seen.delete(reflector);
  }
}

/** Counts of skipped lines by reason, for DEBUG logging and the probe command. */
export type SkipCounts = Record<SkipReason, number>;

/** A zeroed skip counter. */
export function emptySkipCounts(): SkipCounts {
  return {
    empty: 0,
    header: 0,
    summary: 0,
    timeout: 0,
    "icmp-error": 0,
    error: 0,
    duplicate: 0,
    unknown: 0,
  };
}
