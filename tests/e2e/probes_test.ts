import { assert, assertEquals, assertThrows } from "../../src/util/assert.ts";
import {
  forEachLine,
  parseFpingLine,
  parseIperf3Json,
  parseStatsCsv,
  summariseRtt,
} from "./probes.ts";
import { formatRateTrace } from "./report.ts";
import { longestStuckBacklogMs } from "./scenario.ts";

Deno.test("parseFpingLine reads replies, timeouts, and ignores other lines", () => {
  assertEquals(
    parseFpingLine(
      "[1795474573.30018] 127.0.0.1    : [12], 64 bytes, 42.3 ms (0.023 avg, 0% loss)",
    ),
    { tsMs: 1795474573300.18, host: "127.0.0.1", seq: 12, rttMs: 42.3 },
  );
  assertEquals(
    parseFpingLine("[1795474573.71079] 198.51.100.7 : [0], timed out (NaN avg, 100% loss)"),
    { tsMs: 1795474573710.79, host: "198.51.100.7", seq: 0, rttMs: undefined },
  );
  assertEquals(parseFpingLine("ICMP Host Unreachable from 10.213.2.1 for ICMP Echo"), undefined);
  assertEquals(parseFpingLine(""), undefined);
});

Deno.test("summariseRtt keeps the window and counts losses", () => {
  const s = [
    { tsMs: 0, host: "a", seq: 0, rttMs: 100 },
    { tsMs: 1000, host: "a", seq: 1, rttMs: 10 },
    { tsMs: 1100, host: "a", seq: 2, rttMs: undefined },
    { tsMs: 1200, host: "a", seq: 3, rttMs: 30 },
    { tsMs: 1300, host: "a", seq: 4, rttMs: 20 },
    { tsMs: 5000, host: "a", seq: 5, rttMs: 900 },
  ];
  const r = summariseRtt(s, 1000, 1300);
  assertEquals(r.probes, 4);
  assertEquals(r.lossPct, 25);
  assertEquals(r.p50, 20);
  // util/stats percentile: linear interpolation, position (3 − 1) × 0.95 = 1.9 → 20 + 0.9 × 10.
  assertEquals(r.p95, 29);
});

Deno.test("parseIperf3Json takes the receiver sum and reports errors", () => {
  const ok = JSON.stringify({
    end: { sum_sent: { retransmits: 7 }, sum_received: { bits_per_second: 15.5e6 } },
  });
  assertEquals(parseIperf3Json(ok), { receivedBps: 15.5e6, retransmits: 7 });
  const err = assertThrows(
    () => parseIperf3Json(JSON.stringify({ error: "unable to connect to server" })),
    Error,
  );
  assert(err.message.includes("unable to connect"));
  assertThrows(() => parseIperf3Json("{}"), Error);
  assertThrows(() => parseIperf3Json("not json"), Error);
});

Deno.test("parseStatsCsv maps columns by name and skips partial rows", () => {
  const text = "times,timens,rxload,txload,deltadelaydown,deltadelayup,dlrate,uprate\n" +
    "1795474573,500000000,0.91,0.12,3.5,1.25,18000,9000\n" +
    "1795474574,0,0.5\n";
  const rows = parseStatsCsv(text);
  assertEquals(rows.length, 1);
  assertEquals(rows[0], {
    timeMs: 1795474573500,
    rxload: 0.91,
    txload: 0.12,
    deltadelaydown: 3.5,
    deltadelayup: 1.25,
    dlrate: 18000,
    uprate: 9000,
  });
  assertEquals(parseStatsCsv(""), []);
  assertThrows(() => parseStatsCsv("times,dlrate\n1,2\n"), Error);
});

Deno.test("forEachLine splits chunks at newlines and flushes the last line", async () => {
  const enc = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const part of ["ab", "c\nd", "e\n\nf"]) c.enqueue(enc.encode(part));
      c.close();
    },
  });
  const lines: string[] = [];
  await forEachLine(stream, (l) => lines.push(l));
  assertEquals(lines, ["abc", "de", "", "f"]);
});

Deno.test("formatRateTrace shows only rows inside the window, relative to the step", () => {
  const row = (timeMs: number, dlrate: number) => ({
    timeMs,
    rxload: 1,
    txload: 0,
    deltadelaydown: 0,
    deltadelayup: 0,
    dlrate,
    uprate: 5,
  });
  const out = formatRateTrace([row(0, 1), row(9000, 2), row(10500, 3), row(20000, 4)], 10_000, {
    fromS: -1,
    toS: 1,
  });
  const body = out.split("\n").slice(2);
  assertEquals(body.length, 2);
  assert(body[0].startsWith("-1.00"));
  assert(body[1].startsWith("0.50"));
});

Deno.test("longestStuckBacklogMs finds an unchanged non-zero router backlog", () => {
  const q = (tMs: number, routerBytes: number) => ({ tMs, ispBytes: 0, routerBytes });
  const samples = [
    q(0, 0),
    q(200, 5000),
    q(400, 20074),
    q(600, 20074),
    q(800, 20074),
    q(1000, 20074),
    q(1200, 3000),
    q(1400, 0),
    q(1600, 0),
    q(1800, 0),
  ];
  assertEquals(longestStuckBacklogMs(samples), { ms: 600, bytes: 20074, fromMs: 400 });
  assertEquals(longestStuckBacklogMs([q(0, 0), q(200, 0)]).ms, 0);
  assertEquals(longestStuckBacklogMs([]).ms, 0);
});
