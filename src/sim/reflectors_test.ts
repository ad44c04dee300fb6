import { assert, assertEquals } from "../util/assert.ts";
import { seededRandom } from "../util/clock.ts";
import type { PingReply } from "../measure/types.ts";
import { makeReflectors, ReflectorField } from "./reflectors.ts";
import { beginStep, emptyQueue, type FluidQueue } from "./fifo_crossing.ts";

/** A queue served at 1 MB/s that always holds `delayMs` of backlog; `at` ends a step at `t`. */
function standingQueue(delayMs: number): FluidQueue & { at(t: number): void } {
  return {
    ...emptyQueue(),
    backlog: 1e3 * delayMs,
    at(t: number) {
      beginStep(this);
      this.served = 1e6 * t;
    },
  };
}

function drive(mode: "timestamp" | "echo", queueUpMs: number, queueDownMs: number) {
  const refl = makeReflectors(3, seededRandom(1), { maxLoss: 0 });
  const up = standingQueue(queueUpMs), down = standingQueue(queueDownMs);
  const field = new ReflectorField(refl, {
    random: seededRandom(2),
    mode,
    intervalS: 0.5,
    queues: { up: [up], down: [down], stepS: 0.01 },
  });
  const replies: PingReply[] = [];
  const peers = refl.map((r) => r.ip);
  for (let i = 0; i < 1000; i++) {
    const t = i * 0.01;
    up.at(t);
    down.at(t);
    field.advance(t);
    field.probe(t, peers);
    field.collect(t, replies);
  }
  return { refl, field, replies };
}

Deno.test("reflectors answer once per interval per peer, one RTT later", () => {
  const { field, replies } = drive("timestamp", 0, 0);
  assertEquals(field.sent, 3 * 20);
  assert(replies.length >= 3 * 19, `${replies.length} replies`);
  for (const r of replies) {
    assert(r.rttMs > 10 && r.rttMs < 80, `rtt ${r.rttMs}`);
    assert(Number.isInteger(r.upMs) && Number.isInteger(r.downMs), "timestamps are integer ms");
  }
  const times = replies.map((r) => r.receiveTimeS);
  assertEquals(times, [...times].sort((a, b) => a - b));
});

Deno.test("timestamp mode: separate up/down OWD with the clock offset; echo mode: rtt/2", () => {
  const ts = drive("timestamp", 100, 0);
  const r0 = ts.refl[0];
  const first = ts.replies.filter((r) => r.reflector === r0.ip);
  for (const r of first) {
    // Up carries the queue and +offset, down -offset.
    assert(Math.abs(r.upMs - (r0.baseUpMs + 100 + r0.clockOffsetMs)) < 15, `up ${r.upMs}`);
    assert(Math.abs(r.downMs - (r0.baseDownMs - r0.clockOffsetMs)) < 15, `down ${r.downMs}`);
  }
  const echo = drive("echo", 100, 0);
  for (const r of echo.replies) {
    assertEquals(r.upMs, r.rttMs / 2);
    assertEquals(r.downMs, r.rttMs / 2);
    assert(r.rttMs > 100);
  }
});

Deno.test("lossy reflectors lose probes", () => {
  const refl = makeReflectors(2, seededRandom(1), { maxLoss: 0 }).map((r) => ({ ...r, loss: 0.5 }));
  const field = new ReflectorField(refl, { random: seededRandom(3), mode: "echo", intervalS: 0.5 });
  for (let i = 0; i < 2000; i++) field.probe(i * 0.01, refl.map((r) => r.ip));
  assert(
    field.lost > field.sent * 0.35 && field.lost < field.sent * 0.65,
    `${field.lost}/${field.sent}`,
  );
});

Deno.test("probes of the peers are spread evenly across the interval, as fping --interval period/N", () => {
  const refl = makeReflectors(5, seededRandom(1), { maxLoss: 0 });
  const field = new ReflectorField(refl, { random: seededRandom(2), mode: "echo", intervalS: 0.5 });
  const peers = refl.map((r) => r.ip);
  const sentAt: number[] = [];
  for (let i = 0; i < 100; i++) {
    const before = field.sent;
    field.probe(i * 0.01, peers);
    for (let k = before; k < field.sent; k++) sentAt.push(i * 0.01);
  }
  // One probe every 0.1 s, not a burst of five every 0.5 s.
  const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]);
  assert(gaps.every((g) => g > 0.085 && g < 0.115), `gaps ${gaps.map((g) => g.toFixed(2))}`);
});

/** Send times per reflector while `peersAt(t)` gives the peer list. */
function sendTimes(
  schedule: "restart" | "per-reflector",
  peersAt: (t: number) => readonly string[],
  steps: number,
): { ip: string; t: number }[] {
  const refl = makeReflectors(10, seededRandom(1), { maxLoss: 0 });
  const field = new ReflectorField(refl, {
    random: seededRandom(2),
    mode: "echo",
    intervalS: 0.5,
    schedule,
  });
  const out: { ip: string; t: number }[] = [];
  const replies: PingReply[] = [];
  for (let i = 0; i < steps; i++) {
    const t = Math.round(i * 100) / 10000;
    field.probe(t, peersAt(t));
    field.collect(t + 1, replies);
    for (const r of replies.splice(0)) {
      out.push({ ip: r.reflector, t: r.receiveTimeS - r.rttMs / 1000 });
    }
  }
  return out;
}

Deno.test("after a new peer set (a reselection) the probes are spread again, also those of re-entering peers", () => {
  const ips = makeReflectors(10, seededRandom(1)).map((r) => r.ip);
  const first = ips.slice(0, 5), all = [...ips], second = [ips[0], ips[6], ips[7], ips[8], ips[9]];
  // 0–2 s the first five, 2–3 s all ten (the selector's candidates), then five of them, three of
  // which were probed before: as fping restarted with each set, one probe every 0.1 s.
  const lists = [first, all, second];
  const at = (t: number) => (t < 2 ? lists[0] : t < 3 ? lists[1] : lists[2]);
  const sent = sendTimes("restart", at, 500).filter((s) => s.t >= 3.2).map((s) => s.t);
  const gaps = sent.slice(1).map((t, i) => t - sent[i]);
  assert(gaps.every((g) => g > 0.085 && g < 0.115), `gaps ${gaps.map((g) => g.toFixed(2))}`);
});

Deno.test("per-reflector pingers: kept peers keep their phase, new ones start spread over one interval", () => {
  const ips = makeReflectors(10, seededRandom(1)).map((r) => r.ip);
  const first = ips.slice(0, 5), second = [ips[0], ips[1], ips[7], ips[8], ips[9]];
  const at = (t: number) => (t < 2.05 ? first : second);
  const sent = sendTimes("per-reflector", at, 400);
  const phases = (ip: string) =>
    new Set(sent.filter((s) => s.ip === ip).map((s) => Math.round(s.t * 100) % 50));
  // Kept: one phase before and after the change.
  assertEquals([phases(ips[0]).size, phases(ips[1]).size], [1, 1]);
  // New: probed from the change on, 0.5 / 3 s apart.
  const starts = [ips[7], ips[8], ips[9]].map((ip) => sent.find((s) => s.ip === ip)!.t);
  // (the steps are 10 ms: 2.05, 2.2167 → 2.22, 2.3833 → 2.39)
  assertEquals(starts.map((t) => Math.round((t - 2.05) * 100) / 100), [0, 0.17, 0.34]);
});

Deno.test("a slow group is probed at its own period and leaves the others' schedule alone (v82)", () => {
  const refl = makeReflectors(6, seededRandom(1), { maxLoss: 0 });
  const ips = refl.map((r) => r.ip);
  const field = new ReflectorField(refl, { random: seededRandom(2), mode: "echo", intervalS: 0.5 });
  const kept = ips.slice(0, 4), silent = ips.slice(4);
  const sends = new Map<string, number[]>();
  const replies: PingReply[] = [];
  const withSlow = [...kept, ...silent];
  const plan = { periodS: 0.4, slow: { reflectors: silent, periodS: 3 } };
  for (let i = 0; i < 1000; i++) {
    const t = i / 100;
    // 0–2 s the kept four alone, then the slow two beside them (the same list object: no switch).
    if (t < 2) field.probe(t, kept, { periodS: 0.4 });
    else field.probe(t, withSlow, plan);
    field.collect(t + 1, replies);
    for (const r of replies.splice(0)) {
      const at = Math.round((r.receiveTimeS - r.rttMs / 1000) * 100) / 100;
      sends.set(r.reflector, [...(sends.get(r.reflector) ?? []), at]);
    }
  }
  const gaps = (ip: string) => sends.get(ip)!.slice(1).map((t, i) => t - sends.get(ip)![i]);
  for (const ip of kept) {
    assert(gaps(ip).every((g) => Math.abs(g - 0.4) < 0.011), `${ip}: ${gaps(ip)}`);
  }
  for (const ip of silent) {
    assertEquals(sends.get(ip)!.length, 3, "at 2 s (or within 3 s), then every 3 s to 10 s");
    assert(gaps(ip).every((g) => Math.abs(g - 3) < 0.011), `${ip}: ${gaps(ip)}`);
  }
  assertEquals(field.peakPerS, 4 / 0.4 + 1);
});
