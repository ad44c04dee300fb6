import { assert, assertEquals } from "../util/assert.ts";
import { TcpSource } from "./tcp.ts";

const DT = 0.01;
const RTT = 0.03;

/** Delivers everything sent (no bottleneck) for `steps` steps from `t0`; returns the end time. */
function run(tcp: TcpSource, t0: number, steps: number, rttS = RTT): number {
  for (let i = 0; i < steps; i++) {
    tcp.feedback(t0 + i * DT, tcp.send(true, DT, rttS), 0, false, rttS);
  }
  return t0 + steps * DT;
}

Deno.test("TCP: slow start, then CUBIC cuts a flow to 0.7x once per RTT on a loss", () => {
  const tcp = new TcpSource({ baseRttS: RTT, dt: DT, flows: 1, lossAfterRtt: false });
  let t = run(tcp, 0, 12);
  assert(tcp.cwnd > 15_000 * 3 && tcp.inSlowStart, `slow start ${tcp.cwnd}`);
  const s = tcp.send(true, DT); // also takes this step's ACKs
  const grown = tcp.cwnd;
  tcp.feedback(t, 0, s + 30_000, false, RTT); // many packets lost: the one flow is hit
  assertEquals(Math.round(tcp.cwnd), Math.round(grown * 0.7));
  assert(!tcp.inSlowStart);
  tcp.feedback(t + DT, 0, 30_000, false, RTT); // within the same RTT: no second cut
  assertEquals(Math.round(tcp.cwnd), Math.round(grown * 0.7));
  // Regrowth at least as fast as the Reno-friendly 0.53 segments per RTT, and beyond the window
  // of the loss by the time the cubic curve is back there (K).
  const k = Math.cbrt(((grown / 1500) * 0.3) / 0.4);
  const before = tcp.cwnd;
  t = run(tcp, t + DT, 100); // 1 s = 33 RTTs
  assert(tcp.cwnd - before >= 0.5 * 33 * 1500, `growth ${tcp.cwnd - before} in 1 s`);
  run(tcp, t, Math.round(k / DT));
  assert(tcp.cwnd > grown, `beyond the last maximum ${tcp.cwnd} of ${grown}`);
});

Deno.test("TCP: Reno halves on a loss and grows about one segment per RTT", () => {
  const tcp = new TcpSource({ baseRttS: RTT, dt: DT, flows: 1, cc: "reno", lossAfterRtt: false });
  const t = run(tcp, 0, 30);
  const s = tcp.send(true, DT);
  const grown = tcp.cwnd;
  tcp.feedback(t, 0, s + 30_000, false, RTT);
  assertEquals(Math.round(tcp.cwnd), Math.round(grown * 0.5));
  const before = tcp.cwnd;
  run(tcp, t + DT, 30); // 10 RTTs
  const perRtt = (tcp.cwnd - before) / 10;
  assert(perRtt > 1000 && perRtt < 2000, `growth per RTT ${perRtt}`);
});

Deno.test("TCP: with lossAfterRtt a flow learns of its loss one round trip later, growing until then", () => {
  const tcp = new TcpSource({ baseRttS: RTT, dt: DT, flows: 1, cc: "reno", lossAfterRtt: true });
  let t = run(tcp, 0, 12);
  assert(tcp.inSlowStart);
  const s = tcp.send(true, DT);
  const atLoss = tcp.cwnd;
  const rtt = 0.05; // the base RTT plus a queue
  tcp.feedback(t, 0, s + 30_000, false, rtt);
  assertEquals(tcp.cwnd, atLoss, "not yet known");
  t = run(tcp, t + DT, 4, rtt); // 40 ms: still within the round trip
  assert(tcp.inSlowStart && tcp.cwnd > atLoss, `grows until it knows (${tcp.cwnd})`);
  const grown = tcp.cwnd;
  run(tcp, t, 1, rtt); // the round trip is over: halved (from a window one step larger)
  assert(!tcp.inSlowStart, "left slow start");
  assert(tcp.cwnd < 0.7 * grown, `halved from about ${grown}: ${tcp.cwnd}`);
});

Deno.test("TCP: CUBIC's HyStart leaves slow start when the RTT grows, before any loss", () => {
  const tcp = new TcpSource({ baseRttS: RTT, dt: DT, flows: 1, lossAfterRtt: false });
  run(tcp, 0, 10); // min RTT 30 ms seen
  assert(tcp.inSlowStart);
  run(tcp, 0.1, 10, RTT + 0.01); // +10 ms > max(4 ms, 30/8 ms)
  assert(!tcp.inSlowStart, "still in slow start");
  const reno = new TcpSource({ baseRttS: RTT, dt: DT, flows: 1, cc: "reno", lossAfterRtt: false });
  run(reno, 0, 10);
  run(reno, 0.1, 10, RTT + 0.01);
  assert(reno.inSlowStart, "Reno has no HyStart");
});

Deno.test("TCP: one lost packet cuts one of 8 flows, not the aggregate; an AQM signal too", () => {
  const flows = 8;
  const tcp = new TcpSource({ baseRttS: RTT, dt: DT, flows, lossAfterRtt: false });
  let t = run(tcp, 0, 40);
  let w = tcp.cwnd;
  tcp.send(true, DT);
  w = tcp.cwnd;
  tcp.feedback(t, 0, 1500, false, RTT);
  const cut = w - tcp.cwnd;
  // One flow of eight (equal windows) gives up 30 % of its window.
  assert(Math.abs(cut - (w / flows) * 0.3) < 0.02 * w, `cut ${cut} of ${w}`);
  t = run(tcp, t + DT, 5);
  tcp.send(true, DT);
  w = tcp.cwnd;
  tcp.feedback(t, 0, 0, true, RTT);
  assert(w - tcp.cwnd > 0 && w - tcp.cwnd < 0.1 * w, `AQM cut ${w - tcp.cwnd} of ${w}`);
});

Deno.test("TCP: inactive sends nothing; after idle the windows restart from 10 segments", () => {
  const tcp = new TcpSource({ baseRttS: RTT, dt: DT, flows: 2, lossAfterRtt: false });
  run(tcp, 0, 40);
  assert(tcp.cwnd > 2 * 15_000);
  assertEquals(tcp.send(false, DT), 0);
  tcp.send(true, DT);
  assertEquals(tcp.cwnd, 2 * 10 * 1500);
});

Deno.test("TCP: with an ACK delay the ACKs return that much later, in order, the ring growing for long waits", () => {
  // One step's window (10 segments) delivered at once; when does the window grow?
  const grownAt = (ackDelayS: number) => {
    const tcp = new TcpSource({ baseRttS: RTT, dt: DT, flows: 1, lossAfterRtt: false });
    tcp.ackDelayS = ackDelayS;
    tcp.feedback(0, tcp.send(true, DT), 0, false, RTT + ackDelayS);
    for (let k = 1; k < 100; k++) {
      tcp.send(true, DT);
      if (tcp.cwnd > 15_000) return k;
      tcp.feedback(k * DT, 0, 0, false, RTT + ackDelayS);
    }
    return Infinity;
  };
  assertEquals(grownAt(0), 3); // one base RTT
  assertEquals(grownAt(0.05), 8); // 5 steps more
  assertEquals(grownAt(0.5), 53); // beyond the base RTT's ring
  // ACKs keep their order: a wait that falls by 100 ms returns the later ACKs with the earlier.
  const tcp = new TcpSource({ baseRttS: RTT, dt: DT, flows: 1, lossAfterRtt: false });
  tcp.ackDelayS = 0.1;
  tcp.feedback(0, tcp.send(true, DT), 0, false, RTT + 0.1);
  tcp.ackDelayS = 0;
  const acked: number[] = [];
  for (let k = 1; k < 30; k++) {
    const before = tcp.cwnd;
    tcp.send(false, DT);
    if (tcp.cwnd > before) acked.push(k);
    tcp.feedback(k * DT, k === 1 ? 3000 : 0, 0, false, RTT);
  }
  assertEquals(acked, [13], "both steps' ACKs together, 130 ms after the first delivery");
});
