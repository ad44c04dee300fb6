import { assert, assertAlmostEquals, assertEquals } from "../util/assert.ts";
import { seededRandom } from "../util/clock.ts";
import {
  lineWallTimeS,
  parseFpingLine,
  parsePingLine,
  parserFor,
  parseTspingLine,
  ReplyDeduper,
  unwrapOwd,
} from "./parsers.ts";
import type { ParsedReply, ParseResult } from "./types.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

function lines(name: string): string[] {
  return Deno.readTextFileSync(new URL(name, FIXTURES)).split("\n");
}

function asReply(r: ParseResult): ParsedReply {
  if (r.kind !== "reply") throw new Error(`expected a reply, got skip ${r.reason}`);
  return r.reply;
}

function replies(results: ParseResult[]) {
  return results.flatMap((r) => r.kind === "reply" ? [r.reply] : []);
}

function reasons(results: ParseResult[]) {
  return results.flatMap((r) => r.kind === "skip" ? [r.reason] : []);
}

Deno.test("fping: recorded loop output with two padded hosts", () => {
  const out = lines("fping_loop.stdout").map((l) => parseFpingLine(l));
  const got = replies(out);
  assertEquals(got.length, 14);
  assertEquals(got[0], {
    reflector: "127.0.0.1",
    seq: 0,
    rttMs: 0.146,
    upMs: 0.073,
    downMs: 0.073,
  });
  assertEquals(got[1].reflector, "127.0.0.22");
  assertEquals(got[13], {
    reflector: "127.0.0.22",
    seq: 6,
    rttMs: 0.037,
    upMs: 0.0185,
    downMs: 0.0185,
  });
  assertEquals(reasons(out), ["empty"]); // trailing newline
});

Deno.test("fping: recorded stderr summary lines are summaries", () => {
  const out = lines("fping_loop.stderr").map((l) => parseFpingLine(l));
  assertEquals(reasons(out), ["empty", "summary", "summary", "empty"]);
  const dead = lines("fping_dead.stderr").map((l) => parseFpingLine(l));
  assertEquals(reasons(dead).filter((r) => r === "summary").length, 3);
});

Deno.test("fping: recorded timeout lines (fping >= 5.0) are skipped as timeouts", () => {
  const out = lines("fping_dead.stdout").map((l) => parseFpingLine(l));
  const got = replies(out);
  assertEquals(got.length, 9);
  assert(got.every((r) => r.reflector === "10.213.0.1"));
  assertEquals(reasons(out).filter((r) => r === "timeout").length, 7);
  // Older versions print an average instead of NaN once something was received.
  assertEquals(
    parseFpingLine("[1.5] 10.0.0.1 : [3], timed out (0.55 avg, 50% loss)"),
    { kind: "skip", reason: "timeout" },
  );
});

Deno.test("fping: error reports and unknown lines", () => {
  assertEquals(
    parseFpingLine("ICMP Port Unreachable from 192.0.2.1 for ICMP Echo sent to 198.51.100.7"),
    { kind: "skip", reason: "icmp-error" },
  );
  assertEquals(
    parseFpingLine("10.0.0.1: error while sending ping: No route to host"),
    { kind: "skip", reason: "error" },
  );
  assertEquals(parseFpingLine("fping: invalid option -- 'icmp-timestamp'"), {
    kind: "skip",
    reason: "error",
  });
  assertEquals(parseFpingLine("hello world"), { kind: "skip", reason: "unknown" });
  // RTT in exponent notation (>= 1e6 ms) is not a usable sample.
  assertEquals(
    parseFpingLine("[1.00000] 1.2.3.4 : [0], 64 bytes, 1e+06 ms (1e+06 avg, 0% loss)").kind,
    "skip",
  );
  // The clock stepped back while a probe was out: fping prints its negative RTT with `%.2g`
  // (docs/operation.md, "Wall-clock steps"); no sample.
  for (const rtt of ["-3e+05", "-20", "-0.5"]) {
    const line = `[1.00000] 1.2.3.4 : [0], 64 bytes, ${rtt} ms (648 avg, 0% loss)`;
    assertEquals(parseFpingLine(line), { kind: "skip", reason: "unknown" });
  }
});

Deno.test("fping --icmp-timestamp (5.3 format): OWDs from the timestamps, Localreceive unused", () => {
  const line = "[1700000000.12345] 9.9.9.9 : [12], 20 bytes, 21.3 ms (20.8 avg, 0% loss), " +
    "timestamps: Originate=80000102 Receive=80000113 Transmit=80000113 Localreceive=80000123";
  const r = asReply(parseFpingLine(line, "timestamp"));
  assertEquals(r.upMs, 11);
  assertAlmostEquals(r.downMs, 10.3, 1e-9);
  assertEquals(r.rttMs, 21.3);
  // A Localreceive from another clock base (the 5.3 trap) does not matter.
  const odd = line.replace("Localreceive=80000123", "Localreceive=12345");
  assertEquals(asReply(parseFpingLine(odd, "timestamp")), r);
  // Extra items after the timestamps (--print-ttl) are fine.
  assertEquals(asReply(parseFpingLine(line + " (TTL 57)", "timestamp")), r);
  // An echo-format line in timestamp mode is not a timestamp sample.
  assertEquals(parseFpingLine(lines("fping_loop.stdout")[0], "timestamp").kind, "skip");
});

Deno.test("fping --icmp-timestamp: midnight wrap is unwrapped", () => {
  // Sent 5 ms before midnight; the reflector stamped 6 ms after its midnight.
  const line = "[1700000000.12345] 9.9.9.9 : [1], 20 bytes, 21.0 ms (21.0 avg, 0% loss), " +
    "timestamps: Originate=86399995 Receive=6 Transmit=6 Localreceive=16";
  const r = asReply(parseFpingLine(line, "timestamp"));
  assertEquals(r.upMs, 11);
  assertEquals(r.downMs, 10);
});

Deno.test("ping: recorded iputils output", () => {
  const out = lines("ping.stdout").map(parsePingLine);
  const got = replies(out);
  assertEquals(got.length, 6);
  assertEquals(got[0], {
    reflector: "127.0.0.1",
    seq: 1,
    rttMs: 0.049,
    upMs: 0.0245,
    downMs: 0.0245,
  });
  assertEquals(reasons(out), ["header", "empty", "summary", "summary", "summary", "empty"]);
});

Deno.test("ping: recorded unreachable output and DUP", () => {
  const out = lines("ping_dead.stdout").map(parsePingLine);
  assertEquals(replies(out).length, 0);
  assertEquals(reasons(out).filter((r) => r === "icmp-error").length, 2);
  assertEquals(
    parsePingLine(
      "[1795474522.163793] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.012 ms (DUP!)",
    ),
    { kind: "skip", reason: "duplicate" },
  );
  assertEquals(parsePingLine("ping: sendmsg: Network is unreachable"), {
    kind: "skip",
    reason: "error",
  });
});

Deno.test("tsping: timestamp mode, machine readable with -D", () => {
  const r = parseTspingLine(
    "1700000000.123456,9.9.9.9,12,80000102,80000113,80000113,80000123,21,10,11",
  );
  assertEquals(r, {
    kind: "reply",
    reply: { reflector: "9.9.9.9", seq: 12, rttMs: 21, upMs: 11, downMs: 10 },
  });
  // Without -D (9 fields) too.
  assertEquals(parseTspingLine("9.9.9.9,12,80000102,80000113,80000113,80000123,21,10,11"), r);
  // Negative OWDs from clock offset are kept; wrapped ones are unwrapped.
  const neg = asReply(parseTspingLine("1700000000.123456,1.1.1.1,3,100,90,90,120,20,30,-10"));
  assertEquals(neg.upMs, -10);
  const wrapped = asReply(parseTspingLine(
    "1700000000.123456,1.1.1.1,3,86399995,6,6,16,-86399979,10,-86399989",
  ));
  assertEquals([wrapped.rttMs, wrapped.upMs, wrapped.downMs], [21, 11, 10]);
});

Deno.test("tsping: echo mode and non-reply lines", () => {
  assertEquals(parseTspingLine("1700000000.123456,9.9.9.9,12,21", "echo"), {
    kind: "reply",
    reply: { reflector: "9.9.9.9", seq: 12, rttMs: 21, upMs: 10.5, downMs: 10.5 },
  });
  // A timestamp line is not an echo line and vice versa.
  assertEquals(parseTspingLine("1700000000.123456,9.9.9.9,12,21").kind, "skip");
  assertEquals(parseTspingLine("Invalid IP address: 9.9.9", "echo"), {
    kind: "skip",
    reason: "error",
  });
  assertEquals(parseTspingLine("Starting tsping 0.2.3 - pinging 2 targets").kind, "skip");
});

Deno.test("unwrapOwd keeps plausible values and unwraps beyond half a day", () => {
  assertEquals(unwrapOwd(12), 12);
  assertEquals(unwrapOwd(-43_200_000), -43_200_000);
  assertEquals(unwrapOwd(-86_399_989), 11);
  assertEquals(unwrapOwd(86_399_990), -10);
});

Deno.test("ReplyDeduper drops repeats of (host, seq) and forgets old ones", () => {
  const d = new ReplyDeduper(3);
  assertEquals(d.isDuplicate("a", 1), false);
  assertEquals(d.isDuplicate("a", 1), true);
  assertEquals(d.isDuplicate("b", 1), false);
  d.isDuplicate("a", 2);
  d.isDuplicate("a", 3);
  d.isDuplicate("a", 4);
  assertEquals(d.isDuplicate("a", 1), false); // fell out of the window: a wrapped sequence
});

Deno.test("ReplyDeduper.forget: a reflector's numbers count again, the others' stay", () => {
  const d = new ReplyDeduper();
  d.isDuplicate("a", 1);
  d.isDuplicate("b", 1);
  d.forget("a"); // a new child probes it: its sequence starts again
  assertEquals(d.isDuplicate("a", 1), false);
  assertEquals(d.isDuplicate("b", 1), true);
});

Deno.test("parsers never throw on 10 000 seeded garbage lines", () => {
  const rnd = seededRandom(4242);
  const pieces = [
    "[",
    "]",
    ":",
    ",",
    " ",
    "  ",
    "bytes",
    "ms",
    "(",
    ")",
    "timed out",
    "icmp_seq=",
    "time=",
    "ttl=",
    "from",
    "Originate=",
    "Receive=",
    "Transmit=",
    "Localreceive=",
    "timestamps:",
    "NaN",
    "-",
    ".",
    "9.9.9.9",
    "1700000000.123456",
    "[1700000000.12345]",
    "DUP!",
    "\u0000",
    "é",
    "∞",
    "1e308",
    "99999999999999999999999",
    "\t",
    "\r",
  ];
  const parsers = [
    parserFor("fping", "echo"),
    parserFor("fping", "timestamp"),
    parserFor("ping", "echo"),
    parserFor("tsping", "timestamp"),
    parserFor("tsping", "echo"),
  ];
  let replyCount = 0;
  for (let i = 0; i < 10_000; i++) {
    let line = "";
    const n = Math.floor(rnd() * 20);
    for (let k = 0; k < n; k++) {
      line += rnd() < 0.6
        ? pieces[Math.floor(rnd() * pieces.length)]
        : rnd() < 0.5
        ? String(Math.floor(rnd() * 1e6))
        : String.fromCharCode(Math.floor(rnd() * 0x3000));
    }
    for (const parse of parsers) {
      const r = parse(line);
      if (r.kind === "reply") {
        replyCount++;
        assert(Number.isFinite(r.reply.upMs) && Number.isFinite(r.reply.downMs));
      }
    }
  }
  // Garbage must essentially never look like a reply.
  assert(replyCount < 10, `too many garbage replies: ${replyCount}`);
});

Deno.test("lineWallTimeS: the time fping -D, ping -D and tsping print before a reply", () => {
  assertEquals(
    lineWallTimeS("[1700000000.12345] 9.9.9.9 : [1], 64 bytes, 20.1 ms (20.1 avg, 0% loss)"),
    1700000000.12345,
  );
  assertEquals(
    lineWallTimeS("[1700000000.123456] 64 bytes from 9.9.9.9: icmp_seq=1 ttl=57 time=20.1 ms"),
    1700000000.123456,
  );
  assertEquals(
    lineWallTimeS("1700000000.123456,9.9.9.9,12,80000102,1,2,3,21,10,11"),
    1700000000.123456,
  );
  assertEquals(lineWallTimeS("9.9.9.9 : [1], 64 bytes, 20.1 ms (20.1 avg, 0% loss)"), undefined);
  assertEquals(lineWallTimeS("9.9.9.9,12,80000102,80000113,80000113,80000123,21,10,11"), undefined);
});

Deno.test("lines printed while a reflector cannot be reached are skipped by kind, none as unknown", () => {
  // Captured in a netns with the next hop gone and a router answering with an unreachable route
  // (fping 5.1 stdout and stderr, iputils 20221126 `ping -D -n -i 1`). With the route itself gone
  // (unreachable, prohibit, blackhole, link down) both tools print nothing at all while running,
  // and ping started then exits with `ping: connect: …` on stderr.
  const fping = [
    "[1796507117.49367] 10.8.6.6 : [0], timed out (NaN avg, 100% loss)",
    "ICMP Host Unreachable from 10.8.0.2 for ICMP Echo sent to 10.8.6.6",
  ];
  assertEquals(fping.map((l) => parseFpingLine(l)), [
    { kind: "skip", reason: "timeout" },
    { kind: "skip", reason: "icmp-error" },
  ]);
  const ping = [
    "PING 10.8.6.6 (10.8.6.6) 56(84) bytes of data.",
    "[1796507144.155030] From 10.8.0.2 icmp_seq=1 Destination Host Unreachable",
    "ping: connect: Network is unreachable",
  ];
  assertEquals(ping.map(parsePingLine), [
    { kind: "skip", reason: "header" },
    { kind: "skip", reason: "icmp-error" },
    { kind: "skip", reason: "error" },
  ]);
});
