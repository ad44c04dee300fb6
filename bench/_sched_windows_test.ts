import { assertAlmostEquals, assertEquals, assertThrows } from "../src/util/assert.ts";
import type { TreeSched } from "./_proc_usage.ts";
import { SchedWindows, windowMsPerS } from "./_sched_windows.ts";

/** A tree snapshot from `[pid, comm, runNs, slices]` rows. */
const snap = (procs: [number, string, number, number][]): TreeSched => ({
  runNs: procs.reduce((a, [, , ns]) => a + ns, 0),
  slices: procs.reduce((a, [, , , n]) => a + n, 0),
  byPid: new Map(procs.map(([pid, comm, ns, n]) => [pid, [comm, ns, n] as const])),
});

Deno.test("SchedWindows: consecutive windows at the period's multiples, none counted twice", () => {
  // The daemon (1) runs 10 ms a second throughout, 20 ms a second from 10 s on.
  const daemonNs = (t: number) => (t <= 10 ? t * 10e6 : 100e6 + (t - 10) * 20e6);
  const ws = new SchedWindows(snap([[1, "deno", 0, 0]]), { periodS: 10 });
  for (let t = 2.5; t <= 25; t += 2.5) ws.add(snap([[1, "deno", daemonNs(t), t * 10]]), t);
  const got = ws.windows();
  assertEquals(got.map((w) => [w.fromS, w.toS]), [[0, 10], [10, 20], [20, 25]]);
  assertEquals(got.map((w) => windowMsPerS(w).all), [10, 20, 20]);
  // The windows together are the whole phase.
  assertEquals(got.reduce((a, w) => a + w.win.runNs, 0), daemonNs(25));
});

Deno.test("SchedWindows: a boundary falls at the first snapshot after it; a replaced child counts in its window", () => {
  const ws = new SchedWindows(snap([[1, "deno", 0, 0], [2, "tc", 50e6, 9]]), { periodS: 30 });
  ws.add(snap([[1, "deno", 200e6, 0], [2, "tc", 60e6, 9]]), 20);
  // Late snapshot: the first window ends at 31 s, the next one begins there.
  ws.add(snap([[1, "deno", 310e6, 0], [3, "tc", 4e6, 9]]), 31);
  ws.add(snap([[1, "deno", 600e6, 0], [3, "tc", 8e6, 9]]), 60);
  const [a, b] = ws.windows();
  assertEquals([a.fromS, a.toS, b.fromS, b.toS], [0, 31, 31, 60]);
  // tc 2 ran 10 ms in the window before it was replaced, tc 3 4 ms: its past is not subtracted.
  assertEquals(a.win.byComm(), new Map([["deno", [310e6, 0]], ["tc", [14e6, 9]]]));
  assertAlmostEquals(windowMsPerS(b).byComm.get("deno")!.ms, 290 / 29, 1e-9);
  assertAlmostEquals(windowMsPerS(a).byComm.get("tc")!.wakeUps, 9 / 31, 1e-9);
  assertEquals(b.win.byComm().get("tc"), [4e6, 0]);
  // No snapshot after the last boundary: no open window.
  assertEquals(ws.windows().length, 2);
});

Deno.test("SchedWindows: a window length of 0 is refused", () => {
  assertThrows(() => new SchedWindows(snap([]), { periodS: 0 }), Error);
});
