import { assert, assertEquals } from "../util/assert.ts";
import { seededRandom } from "../util/clock.ts";
import type { PingReply } from "../measure/types.ts";
import { makeReflectors, ReflectorField } from "./reflectors.ts";

function drive(mode: "timestamp" | "echo", queueUpMs: number, queueDownMs: number) {
  const refl = makeReflectors(3, seededRandom(1), { maxLoss: 0 });
  const field = new ReflectorField(refl, { random: seededRandom(2), mode, intervalS: 0.5 });
  const replies: PingReply[] = [];
  const peers = refl.map((r) => r.ip);
  for (let i = 0; i < 1000; i++) {
    const t = i * 0.01;
    field.probe(t, peers, queueUpMs, queueDownMs);
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
  for (let i = 0; i < 2000; i++) field.probe(i * 0.01, refl.map((r) => r.ip), 0, 0);
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
    field.probe(i * 0.01, peers, 0, 0);
    for (let k = before; k < field.sent; k++) sentAt.push(i * 0.01);
  }
  // One probe every 0.1 s, not a burst of five every 0.5 s.
  const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]);
  assert(gaps.every((g) => g > 0.085 && g < 0.115), `gaps ${gaps.map((g) => g.toFixed(2))}`);
});
