import { assert, assertEquals } from "../util/assert.ts";
import { loadPlan, ScheduleCursor, TcpSource } from "./load.ts";

Deno.test("TCP source: slow start, multiplicative decrease on loss, then additive growth", () => {
  const dt = 0.01;
  const tcp = new TcpSource({ baseRttS: 0.03, dt, flows: 1 });
  // Deliver everything sent (no bottleneck) for 0.3 s: slow start grows the window fast.
  for (let i = 0; i < 30; i++) tcp.feedback(i * dt, tcp.send(true, dt), 0, false, 0.03);
  assert(tcp.cwnd > 15_000 * 4, `slow start ${tcp.cwnd}`);
  const s = tcp.send(true, dt); // also takes this step's ACKs
  const grown = tcp.cwnd;
  tcp.feedback(0.3, 0, s, false, 0.03); // everything lost
  assertEquals(Math.round(tcp.cwnd), Math.round(grown * 0.7));
  // A second loss within the same RTT does not cut again.
  tcp.feedback(0.31, 0, 100, false, 0.03);
  assertEquals(Math.round(tcp.cwnd), Math.round(grown * 0.7));
  // After the loss: congestion avoidance, about one segment per RTT for one flow.
  const before = tcp.cwnd;
  for (let i = 0; i < 30; i++) tcp.feedback(0.32 + i * dt, tcp.send(true, dt), 0, false, 0.03);
  const perRtt = (tcp.cwnd - before) / 10;
  assert(perRtt > 500 && perRtt < 3000, `growth per RTT ${perRtt}`);
});

Deno.test("TCP source: inactive sends nothing; an AQM signal also reduces the window", () => {
  const tcp = new TcpSource({ baseRttS: 0.03, dt: 0.01 });
  assertEquals(tcp.send(false, 0.01), 0);
  const w = tcp.cwnd;
  tcp.feedback(1, 0, 0, true, 0.03);
  assert(tcp.cwnd < w);
});

Deno.test("load plans: saturate, idle, bursty and mixed schedules", () => {
  const nominal = { down: 10_000, up: 2_000 };
  const sat = loadPlan("saturate", { durationS: 60, seed: 1, nominal });
  assertEquals(new ScheduleCursor(sat.down).at(59.9)?.kind, "tcp");
  assertEquals(loadPlan("idle", { durationS: 60, seed: 1, nominal }).down.length, 0);
  const bursty = loadPlan("bursty", { durationS: 120, seed: 1, nominal });
  let on = 0;
  const c = new ScheduleCursor(bursty.down);
  for (let t = 0; t < 120; t += 0.1) if (c.at(t)) on++;
  assert(on > 400 && on < 1000, `bursty on ${on / 10} s`);
  const mixed = loadPlan("mixed", { durationS: 100, seed: 1, nominal });
  const up = new ScheduleCursor(mixed.up);
  assertEquals(up.at(5), undefined);
  assertEquals(up.at(20)?.kind, "constant");
  assertEquals(up.at(20)?.rateKbit, 400);
  assertEquals(up.at(60)?.kind, "tcp");
});
