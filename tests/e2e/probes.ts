/**
 * Measurement pieces of the end-to-end testbed: parsers for fping loop output, `iperf3 -J` and
 * the daemon's statistics CSV, percentiles, and a background fping RTT probe.
 */
import { percentile } from "../../src/util/stats.ts";

/** One fping loop-mode result line. */
export interface FpingSample {
  /** Receive (or timeout) wall-clock time, ms since the epoch. */
  readonly tsMs: number;
  /** Target as printed. */
  readonly host: string;
  /** Per-target sequence number. */
  readonly seq: number;
  /** Round-trip time in ms, or `undefined` for a timed-out probe. */
  readonly rttMs: number | undefined;
}

const REPLY_RE = /^\[(\d+\.\d+)\]\s+(\S+)\s+:\s+\[(\d+)\],\s+\d+\s+bytes,\s+([0-9.]+)\s+ms\s+\(/;
const TIMEOUT_RE = /^\[(\d+\.\d+)\]\s+(\S+)\s+:\s+\[(\d+)\],\s+timed out\b/;

/** Parses one line of `fping -D -l` output; `undefined` for anything that is not a result. */
export function parseFpingLine(line: string): FpingSample | undefined {
  const reply = REPLY_RE.exec(line);
  if (reply) {
    return {
      tsMs: Number(reply[1]) * 1000,
      host: reply[2],
      seq: Number(reply[3]),
      rttMs: Number(reply[4]),
    };
  }
  const lost = TIMEOUT_RE.exec(line);
  if (lost) {
    return { tsMs: Number(lost[1]) * 1000, host: lost[2], seq: Number(lost[3]), rttMs: undefined };
  }
  return undefined;
}

/** RTT summary of a probe window. */
export interface RttSummary {
  /** Number of probes (answered + lost) in the window. */
  readonly probes: number;
  /** Lost probes, percent. */
  readonly lossPct: number;
  /** Median RTT of the answered probes, ms. */
  readonly p50: number;
  /** 95th percentile RTT of the answered probes, ms. */
  readonly p95: number;
}

/** Summarises the samples whose timestamp lies in `[fromMs, toMs]`. */
export function summariseRtt(
  samples: readonly FpingSample[],
  fromMs: number,
  toMs: number,
): RttSummary {
  const inWindow = samples.filter((s) => s.tsMs >= fromMs && s.tsMs <= toMs);
  const rtts = inWindow.flatMap((s) => (s.rttMs === undefined ? [] : [s.rttMs]));
  const lost = inWindow.length - rtts.length;
  return {
    probes: inWindow.length,
    lossPct: inWindow.length === 0 ? NaN : (100 * lost) / inWindow.length,
    p50: percentile(rtts, 50),
    p95: percentile(rtts, 95),
  };
}

/** Throughput extracted from an `iperf3 -J` report. */
export interface IperfResult {
  /** Receiver-side goodput, bit/s. */
  readonly receivedBps: number;
  /** Sender-side retransmissions (0 when not reported). */
  readonly retransmits: number;
}

/** Parses an `iperf3 -J` report; throws a message naming what is missing. */
export function parseIperf3Json(text: string): IperfResult {
  let doc: {
    error?: string;
    end?: { sum_received?: { bits_per_second?: number }; sum_sent?: { retransmits?: number } };
  };
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `iperf3 -J output is not JSON (${(e as Error).message}): ${text.slice(0, 200)}`,
    );
  }
  if (doc.error) throw new Error(`iperf3 reported an error: ${doc.error}`);
  const bps = doc.end?.sum_received?.bits_per_second;
  if (typeof bps !== "number") throw new Error("iperf3 -J output has no end.sum_received");
  return { receivedBps: bps, retransmits: doc.end?.sum_sent?.retransmits ?? 0 };
}

/** One row of the daemon's statistics CSV. */
export interface StatsRow {
  /** Wall-clock time of the row, ms since the epoch (`times` + `timens`). */
  readonly timeMs: number;
  /** Download load ratio. */
  readonly rxload: number;
  /** Upload load ratio. */
  readonly txload: number;
  /** Download delay statistic, ms. */
  readonly deltadelaydown: number;
  /** Upload delay statistic, ms. */
  readonly deltadelayup: number;
  /** Download shaper rate, kbit/s. */
  readonly dlrate: number;
  /** Upload shaper rate, kbit/s. */
  readonly uprate: number;
}

const STATS_COLUMNS = [
  "times",
  "timens",
  "rxload",
  "txload",
  "deltadelaydown",
  "deltadelayup",
  "dlrate",
  "uprate",
] as const;

/**
 * Parses the statistics CSV (`times,timens,rxload,txload,deltadelaydown,deltadelayup,dlrate,
 * uprate`), locating columns by header name. Rows that are incomplete (a file being written)
 * are skipped.
 */
export function parseStatsCsv(text: string): StatsRow[] {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length === 0) return [];
  const header = lines[0].split(",").map((h) => h.trim());
  const idx = Object.fromEntries(STATS_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<
    (typeof STATS_COLUMNS)[number],
    number
  >;
  const missing = STATS_COLUMNS.filter((c) => idx[c] < 0);
  if (missing.length > 0) {
    throw new Error(`stats CSV header lacks ${missing.join(", ")}: "${lines[0]}"`);
  }
  const rows: StatsRow[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(",").map(Number);
    if (f.length < header.length || f.some((v) => Number.isNaN(v))) continue;
    rows.push({
      timeMs: f[idx.times] * 1000 + f[idx.timens] / 1e6,
      rxload: f[idx.rxload],
      txload: f[idx.txload],
      deltadelaydown: f[idx.deltadelaydown],
      deltadelayup: f[idx.deltadelayup],
      dlrate: f[idx.dlrate],
      uprate: f[idx.uprate],
    });
  }
  return rows;
}

/** Reads a stream line by line, calling `onLine` for each complete line. */
export async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl = rest.indexOf("\n");
    while (nl >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      nl = rest.indexOf("\n");
    }
  }
  if (rest !== "") onLine(rest);
}
