import { assert, assertEquals } from "../util/assert.ts";
import {
  formatProbeTable,
  type ProbeReport,
  reflectorsCommand,
  summarise,
} from "./reflectors_command.ts";
import type { PingReply } from "../measure/types.ts";
import { runSubcommand } from "./testing.ts";

function rep(reflector: string, rttMs: number, upMs = rttMs / 2): PingReply {
  return { reflector, seq: 0, rttMs, upMs, downMs: rttMs - upMs, receiveTimeS: 0 };
}

Deno.test("summarise: loss, min/median/max, OWD medians only in timestamp mode", () => {
  const replies = [rep("a", 10, 4), rep("a", 30, 10), rep("a", 20, 8), rep("b", 5)];
  const [a, b, c] = summarise(["a", "b", "c"], replies, 4, "timestamp");
  assertEquals(a, {
    reflector: "a",
    sent: 4,
    replies: 3,
    lossPercent: 25,
    rttMinMs: 10,
    rttMedianMs: 20,
    rttMaxMs: 30,
    upMedianMs: 8,
    downMedianMs: 12,
  });
  assertEquals(b.lossPercent, 75);
  assertEquals(c.replies, 0);
  assertEquals(c.rttMedianMs, null);
  assertEquals(summarise(["a"], replies, 2, "echo")[0].upMedianMs, null);
  // more replies than probes (duplicates) never give negative loss
  assertEquals(summarise(["a"], replies, 2, "echo")[0].lossPercent, 0);
});

Deno.test("formatProbeTable: one row per reflector, the pinger named", () => {
  const report: ProbeReport = {
    pinger: "tsping",
    binary: "tsping",
    mode: "timestamp",
    rows: summarise(["9.9.9.9", "1.1.1.1"], [rep("9.9.9.9", 21, 11)], 1, "timestamp"),
  };
  const lines = formatProbeTable(report).trimEnd().split("\n");
  assertEquals(lines.length, 4);
  assert(lines[0].startsWith("pinger: tsping"));
  assert(lines[1].includes("up median"));
  assertEquals(lines[2].split(/\s+/), [
    "9.9.9.9",
    "1/1",
    "0",
    "21.00",
    "21.00",
    "21.00",
    "11.00",
    "10.00",
  ]);
  assertEquals(lines[3].split(/\s+/).slice(0, 3), ["1.1.1.1", "0/1", "100"]);
});

function runProbe(args: string[]) {
  return runSubcommand((io) => reflectorsCommand({ io }), ["probe", ...args]);
}

Deno.test("reflectors probe --pinger fping on loopback: two rows with 0 % loss", async () => {
  const { out, code } = await runProbe([
    "--pinger",
    "fping",
    "--count",
    "5",
    "--interval",
    "0.05",
    "127.0.0.1",
    "127.0.0.2",
  ]);
  assertEquals(code, 0);
  const rows = out.trimEnd().split("\n");
  assert(rows[0].startsWith("pinger: fping"));
  assertEquals(rows.length, 4);
  for (const [i, ip] of [[2, "127.0.0.1"], [3, "127.0.0.2"]] as const) {
    assertEquals(rows[i].split(/\s+/).slice(0, 3), [ip, "5/5", "0"]);
  }
});

Deno.test("reflectors probe --json with a sampled list file and ping", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const list = `${dir}/list.csv`;
    Deno.writeTextFileSync(
      list,
      "reflector_ip,ip_version,description\n127.0.0.5,4,a\n127.0.0.6,4,b\n127.0.0.7,4,c",
    );
    const { out, code } = await runProbe([
      "--pinger",
      "ping",
      "--count",
      "2",
      "--interval",
      "0.05",
      "--list",
      list,
      "--sample",
      "2",
      "--json",
    ]);
    assertEquals(code, 0);
    const report = JSON.parse(out) as ProbeReport;
    assertEquals(report.pinger, "ping");
    assertEquals(report.rows.length, 2);
    assert(report.rows.every((r) => r.reflector.startsWith("127.0.0.") && r.replies === 2));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("reflectors probe rejects a bad address and a bad count", async () => {
  const bad = await runProbe(["300.1.1.1"]);
  assertEquals(bad.code, 64);
  assert(bad.err.includes("300.1.1.1"));
  for (const option of ["--count", "--interval", "--wait", "--sample"]) {
    const r = await runProbe([option, "0", "127.0.0.1"]);
    assertEquals(r.code, 64, `${option}: ${r.err}`);
    assert(r.err.includes(option), r.err);
  }
});

Deno.test("reflectors probe: a bad list is 78, a missing pinger 69", async () => {
  const list = await runProbe(["--list", "/nonexistent/list.csv"]);
  assertEquals(list.code, 78, list.err);
  assert(list.err.includes("/nonexistent/list.csv"), list.err);
  const pinger = await runProbe(["--pinger", "fping", "--pinger-binary", "/nonexistent/fping"]);
  assertEquals(pinger.code, 69, pinger.err);
});

Deno.test("reflectors probe exits 69 when no reflector answers", async () => {
  // An fping that reports its version and then never answers: the silence of a network where
  // every reflector is unreachable, without sending anything anywhere.
  const dir = await Deno.makeTempDir({ prefix: "sqma-probe-" });
  try {
    const fping = `${dir}/fping`;
    await Deno.writeTextFile(
      fping,
      '#!/bin/sh\nif [ "$1" = "-v" ]; then echo "fping: Version 5.1"; exit 0; fi\nexec sleep 30\n',
    );
    await Deno.chmod(fping, 0o755);
    const r = await runProbe([
      "--pinger",
      "fping",
      "--pinger-binary",
      fping,
      "--count",
      "1",
      "--interval",
      "0.05",
      "--wait",
      "0.1",
      "127.0.0.1",
    ]);
    assertEquals(r.code, 69, r.err);
    assert(r.err.includes("no reflector answered"), r.err);
    assert(r.out.includes("127.0.0.1"), "the table is still printed: " + r.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reflectors probe --remote: probes locally and says so", async () => {
  const { out, err, code } = await runProbe([
    "--remote",
    "root@192.0.2.1",
    "--pinger",
    "fping",
    "--count",
    "2",
    "--interval",
    "0.05",
    "127.0.0.1",
  ]);
  assertEquals(code, 0, err);
  assert(err.includes("remote mode (root@192.0.2.1): probing from this machine"), err);
  assertEquals(out.trimEnd().split("\n")[2].split(/\s+/).slice(0, 2), ["127.0.0.1", "2/2"]);
});
