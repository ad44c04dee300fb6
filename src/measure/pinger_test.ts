import { assert, assertEquals, waitUntil } from "../util/assert.ts";
import { systemClock, VirtualClock } from "../util/clock.ts";
import { fpingFeaturesFromVersion } from "./backends.ts";
import { ProcessPinger, SILENCE_CONFIRM_MS } from "./pinger.ts";
import { blockingSleep, blockThread } from "../util/blocking_sleep.ts";
import type { ChildHandle, ChildStatus } from "./supervisor.ts";
import type { PingReply } from "./types.ts";
import { mostInWindow } from "../util/window_count.ts";
import { MAX_PROBES_PER_S } from "../reflectors/short_pool.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, resetLogging } from "../log/mod.ts";

/** Resolves when `cond()` holds, polling; fails after `ms` (events, not a fixed sleep). */
Deno.test("fping backend: replies from both targets, restart on a new set, stop reaps", async () => {
  const got: PingReply[] = [];
  const p = new ProcessPinger({
    tool: "fping",
    tickS: 0.05,
    clock: systemClock,
    fping: fpingFeaturesFromVersion("fping: Version 5.1"),
    onReply: (r) => got.push(r),
  });
  assertEquals(p.mode, "echo"); // 5.1 has no --icmp-timestamp
  await p.start(["127.0.0.1", "127.0.0.2"]);
  await waitUntil(() => new Set(got.map((r) => r.reflector)).size === 2, 5000, "two reflectors");
  const r0 = got[0];
  assertEquals(r0.upMs, r0.rttMs / 2);
  assert(r0.receiveTimeS > 0 && r0.rttMs >= 0);
  await p.setReflectors(["127.0.0.3"]);
  const mark = got.length;
  await waitUntil(() => got.slice(mark).some((r) => r.reflector === "127.0.0.3"), 5000, ".3");
  await p.stop();
  const after = got.length;
  // only the new target after the switch (lines in flight from the old child may precede it)
  const firstNew = got.findIndex((r, i) => i >= mark && r.reflector === "127.0.0.3");
  assert(got.slice(firstNew).every((r) => r.reflector === "127.0.0.3"));
  await new Promise((r) => setTimeout(r, 150));
  assertEquals(got.length, after); // nothing after stop
});

Deno.test("ping backend: one process per reflector, replies() iterator ends on stop", async () => {
  const p = new ProcessPinger({ tool: "ping", tickS: 0.05, clock: systemClock });
  const it = p.replies();
  await p.start(["127.0.0.1", "127.0.0.4"]);
  const seen = new Set<string>();
  while (seen.size < 2) {
    const n = await it.next();
    assert(!n.done);
    seen.add(n.value.reflector);
  }
  await p.stop();
  // drain what was buffered, then the iterator is done
  let n = await it.next();
  while (!n.done) n = await it.next();
  assertEquals(n.done, true);
});

Deno.test("real ping: a reflector dropped and set again is heard from its new process's first reply (its sequence numbers start again)", async () => {
  // A reselection cycle's draws come back cycle after cycle in a short pool: each time a new
  // `ping` whose icmp_seq starts at 1 again. Until the twenty-sixth session its first replies
  // were dropped as repeats of the last process's (the deduper remembers 64 a reflector): a draw
  // probed 3-4 times a cycle never answered again (docs/operation.md, "Its helper processes").
  const got: PingReply[] = [];
  const p = new ProcessPinger({
    tool: "ping",
    tickS: 0.2,
    clock: systemClock,
    onReply: (r) => got.push(r),
  });
  const from = (ip: string) => got.filter((r) => r.reflector === ip);
  try {
    await p.start(["127.0.0.1", "127.0.0.2"]);
    await waitUntil(() => from("127.0.0.1").length >= 4, 5000, "replies of .1");
    await p.setReflectors(["127.0.0.2"]);
    const mark = got.length;
    await waitUntil(() => got.slice(mark).some((r) => r.reflector === "127.0.0.2"), 5000, ".2");
    await p.setReflectors(["127.0.0.2", "127.0.0.1"]);
    const back = got.length;
    await waitUntil(
      () => got.slice(back).some((r) => r.reflector === "127.0.0.1"),
      5000,
      ".1 again",
    );
    assertEquals(got.slice(back).find((r) => r.reflector === "127.0.0.1")?.seq, 1);
  } finally {
    await p.stop();
  }
});

Deno.test("pinger_binary override: a fake tsping script is parsed in timestamp mode", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const script = `${dir}/fake-tsping`;
    Deno.writeTextFileSync(
      script,
      [
        "#!/bin/sh",
        'echo "Starting tsping 0.2.3 - pinging $# targets" >&2',
        'echo "$@" > ' + `${dir}/args`,
        "echo 1700000000.123456,9.9.9.9,12,80000102,80000113,80000113,80000123,21,10,11",
        "echo 1700000000.123456,9.9.9.9,12,80000102,80000113,80000113,80000123,21,10,11",
        "echo garbage",
        "echo 1700000000.223456,1.1.1.1,12,80000102,80000105,80000106,80000110,8,4,3",
        "exec sleep 30",
      ].join("\n"),
    );
    Deno.chmodSync(script, 0o755);
    const got: PingReply[] = [];
    const clock = new VirtualClock(42);
    const p = new ProcessPinger({
      tool: "tsping",
      binary: script,
      tickS: 0.5,
      clock,
      onReply: (r) => got.push(r),
    });
    await p.start(["9.9.9.9", "1.1.1.1"]);
    await waitUntil(() => got.length === 2, 5000, "two replies");
    await p.stop();
    assertEquals(got, [
      { reflector: "9.9.9.9", seq: 12, rttMs: 21, upMs: 11, downMs: 10, receiveTimeS: 42 },
      { reflector: "1.1.1.1", seq: 12, rttMs: 8, upMs: 3, downMs: 4, receiveTimeS: 42 },
    ]);
    assertEquals(p.skipped.duplicate, 1);
    assertEquals(p.skipped.unknown, 1);
    assertEquals(
      Deno.readTextFileSync(`${dir}/args`).trim(),
      "--print-timestamps --machine-readable=, --icmp-ts --sleep-time=0 --target-spacing=250 9.9.9.9 1.1.1.1",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("timestamp → echo fallback after 10 s without replies (virtual clock, fake child)", async () => {
  const clock = new VirtualClock(0);
  const spawned: string[][] = [];
  const kills: ((s: ChildStatus) => void)[] = [];
  const spawn = (cmd: string, args: readonly string[]): ChildHandle => {
    spawned.push([cmd, ...args]);
    let exit!: (s: ChildStatus) => void;
    const status = new Promise<ChildStatus>((r) => exit = r);
    kills.push(exit);
    const empty = () =>
      new ReadableStream<Uint8Array>({ start: (c) => void status.then(() => c.close()) });
    return {
      pid: 1,
      stdout: empty(),
      stderr: empty(),
      status,
      kill: (signal) => exit({ code: 143, signal }),
    };
  };
  const p = new ProcessPinger({ tool: "tsping", tickS: 0.5, clock, spawn, fallbackAfterS: 10 });
  await p.start(["9.9.9.9"]);
  assertEquals(p.mode, "timestamp");
  clock.advance(9.9);
  assertEquals(p.checkFallback(), false);
  clock.advance(0.2);
  assertEquals(p.checkFallback(), true);
  assertEquals(p.mode, "echo");
  await waitUntil(() => spawned.length === 2, 2000, "respawn");
  assert(spawned[0].includes("--icmp-ts"));
  assert(spawned[1].includes("--icmp-echo"));
  assertEquals(p.checkFallback(clock.monotonicS() + 100), false); // echo never falls back further
  await p.stop();
});

Deno.test("echo-only tools ignore the timestamp request; fping 5.3 would use it", () => {
  const clock = new VirtualClock(0);
  assertEquals(new ProcessPinger({ tool: "ping", tickS: 0.5, clock }).mode, "echo");
  const f53 = fpingFeaturesFromVersion("fping: Version 5.3");
  assertEquals(
    new ProcessPinger({ tool: "fping", tickS: 0.5, clock, fping: f53 }).mode,
    "timestamp",
  );
  assertEquals(
    new ProcessPinger({ tool: "tsping", tickS: 0.5, clock, mode: "echo" }).mode,
    "echo",
  );
});

Deno.test("a reply line read late keeps the receive time the tool printed (within 2 s)", async () => {
  const clock = new VirtualClock(100);
  const wallS = clock.wallMs() / 1000;
  const lines = [
    // Printed 1.3 s ago (the daemon's thread was blocked meanwhile): received then.
    `[${(wallS - 1.3).toFixed(5)}] 9.9.9.9 : [1], 64 bytes, 20.0 ms (20.0 avg, 0% loss)`,
    // Printed "5 s ago": a clock step, not a wait in the pipe: received now.
    `[${(wallS - 5).toFixed(5)}] 9.9.9.9 : [2], 64 bytes, 21.0 ms (20.5 avg, 0% loss)`,
    // Printed "in the future" (the wall clock stepped back): now.
    `[${(wallS + 2).toFixed(5)}] 9.9.9.9 : [3], 64 bytes, 22.0 ms (21.0 avg, 0% loss)`,
    // No time printed: now.
    `9.9.9.9 : [4], 64 bytes, 23.0 ms (21.5 avg, 0% loss)`,
  ];
  const spawn = (): ChildHandle => {
    const enc = new TextEncoder();
    const status = new Promise<ChildStatus>(() => {});
    return {
      pid: 1,
      stdout: new ReadableStream({
        start: (c) => c.enqueue(enc.encode(lines.map((l) => l + "\n").join(""))),
      }),
      stderr: new ReadableStream(),
      status,
      kill: () => {},
    };
  };
  const got: PingReply[] = [];
  const p = new ProcessPinger({
    tool: "fping",
    tickS: 0.5,
    clock,
    spawn,
    fping: fpingFeaturesFromVersion("fping: Version 5.1"),
    onReply: (r) => got.push(r),
  });
  await p.start(["9.9.9.9"]);
  await waitUntil(() => got.length === 4, 2000, "four replies");
  const ages = got.map((r) => Math.round((100 - r.receiveTimeS) * 1000) / 1000);
  assertEquals(ages, [1.3, 0, 0, 0]);
  assertEquals(got.map((r) => r.rttMs), [20, 21, 22, 23]);
});

/** An fping pinger ticking every 0.5 s on `clock` over the fake children of `spawn`; its replies. */
function fakeFping(
  clock: VirtualClock,
  spawn: (cmd: string, args: readonly string[]) => ChildHandle,
): { p: ProcessPinger; replies: PingReply[] } {
  const replies: PingReply[] = [];
  const p = new ProcessPinger({
    tool: "fping",
    tickS: 0.5,
    clock,
    spawn,
    onReply: (r) => replies.push(r),
  });
  return { p, replies };
}

/**
 * A fake child, alive until killed (then code 143 with the signal), whose stdout prints each line
 * given to `print`; both its streams end at its exit.
 */
function printingChild(pid: number): { child: ChildHandle; print: (line: string) => void } {
  let exit!: (s: ChildStatus) => void;
  const status = new Promise<ChildStatus>((r) => exit = r);
  const enc = new TextEncoder();
  let print!: (line: string) => void;
  const stdout = new ReadableStream<Uint8Array>({
    start: (c) => {
      print = (line) => c.enqueue(enc.encode(`${line}\n`));
      void status.then(() => c.close());
    },
  });
  const stderr = new ReadableStream<Uint8Array>({
    start: (c) => void status.then(() => c.close()),
  });
  const kill = (signal?: Deno.Signal) => exit({ code: 143, signal: signal ?? null });
  return { child: { pid, stdout, stderr, status, kill }, print };
}

Deno.test("the same set again restarts a child silent for two ticks, not one that replies", async () => {
  const clock = new VirtualClock(0);
  const spawned: ChildHandle[] = [];
  const print: ((line: string) => void)[] = [];
  const spawn = (): ChildHandle => {
    // Alive but silent (stopped) until killed.
    const { child, print: printOf } = printingChild(spawned.length + 1);
    print.push(printOf);
    spawned.push(child);
    return child;
  };
  const { p, replies } = fakeFping(clock, spawn);
  await p.start(["9.9.9.9", "1.1.1.1"]);
  await waitUntil(() => spawned.length === 1, 2000, "the first child");
  clock.advance(0.9);
  await p.setReflectors(["1.1.1.1", "9.9.9.9"]);
  assertEquals(spawned.length, 1, "silent for less than two ticks");
  clock.advance(0.2);
  await p.setReflectors(["9.9.9.9", "1.1.1.1"]);
  await waitUntil(() => spawned.length === 2, 2000, "the silent child replaced");
  // The new one replies: the same set again leaves it running, however long after.
  clock.advance(5);
  print[1]("9.9.9.9 : [0], 64 bytes, 1.00 ms (1.00 avg, 0% loss)");
  await waitUntil(() => replies.length === 1, 2000, "a reply");
  clock.advance(0.9);
  await p.setReflectors(["9.9.9.9", "1.1.1.1"]);
  assertEquals(spawned.length, 2);
  await p.stop();
});

/** A child the test makes print, its targets (the IPv4 arguments) and whether it was killed. */
interface TrackedChild {
  targets: string[];
  print: (line: string) => void;
  killed: boolean;
}

/**
 * A spawn of {@linkcode printingChild}ren (alive but silent until killed, printing what the test
 * makes them print), each recorded in `children` with its targets and whether it was killed.
 */
function trackedChildren(): {
  children: TrackedChild[];
  spawn: (cmd: string, args: readonly string[]) => ChildHandle;
} {
  const children: TrackedChild[] = [];
  const spawn = (_cmd: string, args: readonly string[]): ChildHandle => {
    const { child, print } = printingChild(children.length + 1);
    const targets = args.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    const c = { targets, print, killed: false };
    children.push(c);
    return { ...child, kill: (sig) => (c.killed = true, child.kill(sig)) };
  };
  return { children, spawn };
}

Deno.test("a new set that keeps the peers' child (draws probed apart) restarts it after a tick without a reply, not one that replies or never replied since it started", async () => {
  const clock = new VirtualClock(0);
  const { children, spawn } = trackedChildren();
  const { p, replies } = fakeFping(clock, spawn);
  const peers = ["9.9.9.9", "1.1.1.1"];
  const cycle = (draw: string) => ({ slow: { reflectors: [draw], periodS: 2 } });
  const reply = async (c: { print: (line: string) => void }) => {
    const n = replies.length;
    c.print(`9.9.9.9 : [${n}], 64 bytes, 1.00 ms (1.00 avg, 0% loss)`);
    await waitUntil(() => replies.length === n + 1, 2000, "a reply");
  };
  const state = () => children.map((c) => `${c.targets.join(" ")}${c.killed ? " killed" : ""}`);
  await p.start(peers);
  await waitUntil(() => children.length === 1, 2000, "the peers' child");
  await reply(children[0]);
  clock.advance(0.4);
  await p.setReflectors([...peers, "8.8.8.8"], cycle("8.8.8.8"));
  await waitUntil(() => children.length === 2, 2000, "the draws' child");
  assertEquals(children[0].killed, false, "silent for less than a tick: kept");
  clock.advance(0.2);
  await p.setReflectors([...peers, "8.8.4.4"], cycle("8.8.4.4"));
  await waitUntil(() => children.length === 4, 2000, "the peers' child replaced");
  assertEquals(state().slice(2).sort(), ["8.8.4.4", peers.join(" ")]);
  assertEquals(state().slice(0, 2), [`${peers.join(" ")} killed`, "8.8.8.8 killed"]);
  // The new one has not replied since it started (as in an outage): kept, however long silent.
  const again = children.find((c, i) => i >= 2 && c.targets.length === 2)!;
  clock.advance(5);
  await p.setReflectors([...peers, "8.8.8.8"], cycle("8.8.8.8"));
  await waitUntil(() => children.length === 5, 2000, "the next draws' child");
  assertEquals(again.killed, false, "a child that never replied since it started is kept");
  // It replies: a tick later, minus a little, another cycle keeps it.
  await reply(again);
  clock.advance(0.4);
  await p.setReflectors([...peers, "8.8.4.4"], cycle("8.8.4.4"));
  await waitUntil(() => children.length === 6, 2000, "the next draws' child");
  assertEquals(again.killed, false, "a child that replied within the tick is kept");
  await p.stop();
});

Deno.test("restartKeptSilent (the loop still too few fresh in its own cycle): restarts the peers' child after a tick without a reply, not one that replies or never replied since it started", async () => {
  const clock = new VirtualClock(0);
  const { children, spawn } = trackedChildren();
  const { p, replies } = fakeFping(clock, spawn);
  const reply = async (c: { print: (line: string) => void }) => {
    const n = replies.length;
    c.print(`9.9.9.9 : [${n}], 64 bytes, 1.00 ms (1.00 avg, 0% loss)`);
    await waitUntil(() => replies.length === n + 1, 2000, "a reply");
  };
  await p.start(["9.9.9.9", "1.1.1.1"]);
  await waitUntil(() => children.length === 1, 2000, "the peers' child");
  await reply(children[0]);
  clock.advance(0.4);
  await p.restartKeptSilent();
  assertEquals(children.length, 1, "silent for less than a tick: kept");
  // Hung: a tick without a reply.
  clock.advance(0.2);
  await p.restartKeptSilent();
  await waitUntil(() => children.length === 2, 2000, "the hung child replaced");
  assertEquals(children[0].killed, true);
  // The new one has not replied since it started (an outage): kept, however long silent.
  clock.advance(5);
  await p.restartKeptSilent();
  assertEquals(children.length, 2);
  assertEquals(children[1].killed, false);
  await p.stop();
});

Deno.test("a kept child whose replies wait unread in its pipe (the tick's blocked wait) is not restarted at a cycle's start, one that stays silent is, with one WARN", async () => {
  const clock = new VirtualClock(0);
  const { children, spawn } = trackedChildren();
  const replies: PingReply[] = [];
  const line = (n: number) => `9.9.9.9 : [${n}], 64 bytes, 1.00 ms (1.00 avg, 0% loss)`;
  // Lines the peers' child printed during the blocked wait: the event loop reads them at its next
  // turn, which the pinger's waits give it (a waiting line is printed there, then read).
  const unread: string[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    // The supervisor's waits (the hourly renewal, the kill grace) until aborted.
    if (ms !== SILENCE_CONFIRM_MS) {
      return await new Promise<void>((r) => signal?.addEventListener("abort", () => r()));
    }
    const pending = unread.splice(0);
    const n = replies.length;
    for (const l of pending) children[0].print(l);
    await waitUntil(() => replies.length === n + pending.length, 2000, "the waiting lines read");
  };
  const p = new ProcessPinger({
    tool: "fping",
    tickS: 0.5,
    clock,
    spawn,
    sleep,
    onReply: (r) => replies.push(r),
  });
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const peers = ["9.9.9.9", "1.1.1.1"];
    const cycle = (draw: string) => ({ slow: { reflectors: [draw], periodS: 2 } });
    await p.start(peers);
    await waitUntil(() => children.length === 1, 2000, "the peers' child");
    children[0].print(line(0));
    await waitUntil(() => replies.length === 1, 2000, "a reply");
    // The thread blocked for the tick; the child replied meanwhile, unread when the selector's
    // timer begins a cycle whose draws are probed apart (its peers' child kept).
    clock.advance(0.6);
    unread.push(line(1));
    await p.setReflectors([...peers, "8.8.8.8"], cycle("8.8.8.8"));
    await waitUntil(() => children.length >= 2, 2000, "the draws' child");
    assertEquals(replies.length, 2, "the waiting reply read");
    assertEquals(children[0].killed, false, "a live child kept");
    // Hung: nothing printed, nothing waiting.
    clock.advance(0.6);
    await p.setReflectors([...peers, "8.8.4.4"], cycle("8.8.4.4"));
    await waitUntil(() => children.length === 4, 2000, "the peers' child replaced");
    assertEquals(children[0].killed, true);
    const text = records.map((r) => `${r.level} ${String(r.message.join(""))}`);
    assertEquals(text.filter((t) => t.includes("no reply")), [
      "warning fping printed no reply for 0.5 s; restarting",
    ]);
  } finally {
    resetLogging();
    await p.stop();
  }
});

Deno.test("real fping: a kept child whose replies wait in its pipe after the tick's blocked wait is not restarted by a cycle the selector's timer begins meanwhile", async () => {
  // The daemon's thread blocks between ticks (src/util/blocking_sleep.ts); fping prints meanwhile,
  // and the selector's timer falls due. When the wait ends the runtime runs the expired timer
  // before it polls the pipes: the cycle's new set (draws apart, the peers' child kept) finds the
  // child a tick silent. Without `SILENCE_CONFIRM_MS` it was restarted with a WARN in 3–5 of 5
  // rounds (docs/operation.md, "Its helper processes").
  const replies: PingReply[] = [];
  const p = new ProcessPinger({
    tool: "fping",
    tickS: 0.5,
    clock: systemClock,
    fping: fpingFeaturesFromVersion("fping: Version 5.1"),
    onReply: (r) => replies.push(r),
  });
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  const peers = ["127.0.0.1", "127.0.0.2"];
  const restarts: number[] = [];
  try {
    await p.start(peers);
    for (let k = 0; k < 5; k++) {
      const n = replies.length;
      await waitUntil(() => replies.length > n, 5000, "a reply read");
      const starts = p.starts ?? 0;
      let cycle: Promise<void> | undefined;
      const draw = `127.0.0.${10 + k}`;
      setTimeout(() => {
        cycle = p.setReflectors([...peers, draw], { slow: { reflectors: [draw], periodS: 2 } });
      }, 300);
      // The tick's wait: more than a tick, the timer due within it, fping replying meanwhile.
      blockThread(700);
      await waitUntil(() => cycle !== undefined, 2000, "the selector's timer");
      await cycle;
      restarts.push((p.starts ?? 0) - starts - 1); // less the draws' new child
    }
  } finally {
    resetLogging();
    await p.stop();
  }
  assertEquals(restarts, [0, 0, 0, 0, 0], "the peers' child kept");
  const text = records.map((r) => `${r.level} ${String(r.message.join(""))}`);
  assertEquals(text.filter((t) => t.includes("no reply")), []);
});

Deno.test("a child that has printed nothing since its spawn counts its silence from the start delay seen lately: a slow start is not restarted before its first reply", async () => {
  const clock = new VirtualClock(0);
  // Children of a router whose process starts take 1.3 s, longer than the loop's window (2
  // ticks): each prints its first reply 1.3 s after its spawn unless killed before.
  const children: { spawnedS: number; first: string; print: (line: string) => void }[] = [];
  const spawn = (_cmd: string, args: readonly string[]): ChildHandle => {
    const { child, print } = printingChild(children.length + 1);
    // The target it probes first (`probe_order.ts`).
    const first = args.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a))!;
    children.push({ spawnedS: clock.monotonicS(), first, print });
    return child;
  };
  const { p, replies } = fakeFping(clock, spawn);
  const replyDue = async () => {
    const c = children.at(-1)!;
    if (Math.abs(clock.monotonicS() - c.spawnedS - 1.3) > 1e-9) return;
    const n = replies.length;
    c.print(`${c.first} : [${n}], 64 bytes, 0.00 ms (0.00 avg, 0% loss)`);
    await waitUntil(() => replies.length === n + 1, 2000, "a reply");
  };
  await p.start(["9.9.9.9", "1.1.1.1"]);
  await waitUntil(() => children.length === 1, 2000, "the first child");
  clock.advance(1.3);
  await replyDue();
  assertEquals(p.startDelayS, 1.3);
  // A new set (a cycle's candidates): too few are fresh while it starts, so the loop publishes
  // the set again at every tick (src/reflectors/selector.ts, `#publishAgain`).
  const set = ["9.9.9.9", "1.1.1.1", "8.8.8.8"];
  await p.setReflectors(set);
  await waitUntil(() => children.length === 2, 2000, "the new set's child");
  for (let k = 0; k < 13; k++) {
    clock.advance(0.1);
    await replyDue();
    if (k % 5 === 4) {
      await p.setReflectors(set);
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  // Counted from the spawn, it was restarted 1 s after it (before its reply at 1.3 s), then
  // every second tick: it never replied.
  assertEquals(children.length, 2, "the starting child kept until its first reply");
  assertEquals(replies.length, 2);
  // One that prints nothing (hung as it starts) is restarted 2 ticks after the start delay.
  await p.setReflectors(["9.9.9.9"]);
  await waitUntil(() => children.length === 3, 2000, "the next set's child");
  clock.advance(2.2);
  await p.setReflectors(["9.9.9.9"]);
  assertEquals(children.length, 3, "silent for less than 2 ticks after the start delay");
  clock.advance(0.2);
  await p.setReflectors(["9.9.9.9"]);
  await waitUntil(() => children.length === 4, 2000, "the hung child replaced");
  await p.stop();
});

Deno.test("handOverDelayS: a new set's child counts its start from the set given, the old child's end included; startDelayS from its spawn", async () => {
  const clock = new VirtualClock(0);
  let print!: (line: string) => void;
  let order: string[] = [];
  let spawns = 0;
  const spawn = (_cmd: string, args: readonly string[]): ChildHandle => {
    const c = printingChild(++spawns);
    order = args.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    print = c.print;
    return c.child;
  };
  const { p, replies } = fakeFping(clock, spawn);
  assertEquals(p.handOverDelayS, 0);
  await p.start(["9.9.9.9", "1.1.1.1"]);
  await waitUntil(() => spawns === 1, 2000, "the first child");
  print("9.9.9.9 : [0], 64 bytes, 0.00 ms (0.00 avg, 0% loss)");
  await waitUntil(() => replies.length === 1, 2000, "a reply");
  assertEquals(p.handOverDelayS, 0);
  clock.advance(2);
  // A selection on a starved machine: the old child ends and is reaped 1.2 s after the set is
  // given, the new one prints its first reply (its first target, at once) 0.1 s after its spawn.
  const set = p.setReflectors(["9.9.9.9", "1.1.1.1", "8.8.8.8"]);
  clock.advance(1.2);
  await set;
  await waitUntil(() => spawns === 2, 2000, "the new set's child");
  clock.advance(0.1);
  // Its first target (`probe_order.ts`) answers at once.
  print(`${order[0]} : [0], 64 bytes, 0.00 ms (0.00 avg, 0% loss)`);
  await waitUntil(() => replies.length === 2, 2000, "the new child's reply");
  assert(Math.abs(p.startDelayS - 0.1) < 1e-9, `start delay ${p.startDelayS} s`);
  assert(Math.abs(p.handOverDelayS - 1.3) < 1e-9, `hand-over delay ${p.handOverDelayS} s`);
  await p.stop();
});

Deno.test("fping's start delay leaves out its first reply's place in the probe schedule and its round trip (silent targets probed first)", async () => {
  const clock = new VirtualClock(0);
  let order: string[] = [];
  let print!: (line: string) => void;
  const spawn = (_cmd: string, args: readonly string[]): ChildHandle => {
    const c = printingChild(1);
    order = args.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    print = c.print;
    return c.child;
  };
  const { p, replies } = fakeFping(clock, spawn);
  await p.start(["9.9.9.9", "1.1.1.1", "8.8.8.8", "8.8.4.4"]);
  await waitUntil(() => order.length === 4, 2000, "the child");
  // Probed 0.125 s apart (the tick over 4): the first two are silent, the third answers in 50 ms,
  // 0.5 s after the spawn: the child started 0.2 s late.
  clock.advance(0.5);
  print(`${order[2]} : [0], 64 bytes, 50.0 ms (50.0 avg, 0% loss)`);
  await waitUntil(() => replies.length === 1, 2000, "a reply");
  assert(Math.abs(p.startDelayS - 0.2) < 1e-9, `${p.startDelayS} s`);
  await p.stop();
});

/** A fake child printing `lines` (stdout) and `errors` (stderr) at once, then alive until killed. */
function talkingChild(pid: number, lines: string[], errors: string[]): ChildHandle {
  let exit!: (s: ChildStatus) => void;
  const status = new Promise<ChildStatus>((r) => exit = r);
  const enc = new TextEncoder();
  const stream = (text: string[]) =>
    new ReadableStream<Uint8Array>({
      start: (c) => {
        for (const l of text) c.enqueue(enc.encode(`${l}\n`));
        void status.then(() => c.close());
      },
    });
  return {
    pid,
    stdout: stream(lines),
    stderr: stream(errors),
    status,
    kill: (signal) => exit({ code: 143, signal: signal ?? null }),
  };
}

Deno.test("lines that are no replies (timeouts, ICMP errors) neither keep a child from the silence restart nor the timestamp fallback", async () => {
  const clock = new VirtualClock(0);
  // What fping 5.1 prints while the next hop of its targets is gone (captured in a netns).
  const out = [
    "[1796507042.75885] 10.9.0.7 : [0], timed out (NaN avg, 100% loss)",
    "[1796507043.76112] 10.9.0.7 : [1], timed out (NaN avg, 100% loss)",
  ];
  const err = Array(4).fill("ICMP Host Unreachable from 10.9.0.1 for ICMP Echo sent to 10.9.0.7");
  const spawned: ChildHandle[] = [];
  const spawn = (): ChildHandle => {
    const c = talkingChild(spawned.length + 1, out, err);
    spawned.push(c);
    return c;
  };
  const fping = fpingFeaturesFromVersion("fping: Version 5.3");
  const p = new ProcessPinger({ tool: "fping", tickS: 0.5, clock, spawn, fping });
  await p.start(["10.9.0.7"]);
  await waitUntil(() => p.skipped.timeout === 2, 2000, "the timeout lines");
  assertEquals(p.replyCount, 0);
  clock.advance(1);
  await p.setReflectors(["10.9.0.7"]);
  await waitUntil(() => spawned.length === 2, 2000, "the silent child replaced");
  clock.advance(10);
  assertEquals(p.checkFallback(), true);
  await p.stop();
});

Deno.test("pings failing at once (route gone): backoff cut short by the same set again, one WARN per outage", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  const clock = new VirtualClock(0);
  let spawned = 0;
  let routeGone = true;
  // The route is gone: iputils ping exits at once (seen with the real one in a netns).
  const spawn = (_cmd: string, args: readonly string[]): ChildHandle => {
    if (!routeGone) {
      const ip = args.at(-1);
      return talkingChild(++spawned, [`64 bytes from ${ip}: icmp_seq=1 ttl=64 time=1.0 ms`], []);
    }
    const c = talkingChild(++spawned, [], ["ping: connect: Network is unreachable"]);
    queueMicrotask(() => c.kill("SIGTERM"));
    return { ...c, status: c.status.then(() => ({ code: 2, signal: null })) };
  };
  const exits = () => records.filter((r) => /restarting in/.test(r.rawMessage)).length;
  // Backoff sleeps last until cut short; the stagger of new pings takes no time.
  const sleep = (_ms: number, signal?: AbortSignal) =>
    signal === undefined
      ? Promise.resolve()
      : new Promise<void>((r) => signal.addEventListener("abort", () => r()));
  const p = new ProcessPinger({ tool: "ping", tickS: 0.5, clock, spawn, sleep });
  try {
    await p.start(["192.0.2.1"]);
    await waitUntil(
      () => records.some((r) => /restarting in/.test(r.rawMessage)),
      2000,
      "exit",
    );
    clock.advance(1);
    await p.setReflectors(["192.0.2.1"]);
    await waitUntil(() => spawned === 2, 2000, "the backoff cut short");
    assertEquals(records.filter((r) => /printed no reply/.test(r.rawMessage)).length, 0);
    // A reselection's new reflectors fail the same way: still one WARN for the outage.
    await p.setReflectors(["192.0.2.2", "192.0.2.3"]);
    await waitUntil(() => spawned === 4, 2000, "the new reflectors' pings");
    assertEquals(exits(), 1);
    // The route is back: a reply ends the outage, the next failure is logged again.
    routeGone = false;
    await p.setReflectors(["192.0.2.4"]);
    await waitUntil(() => p.replyCount === 1, 2000, "a reply");
    routeGone = true;
    await p.setReflectors(["192.0.2.5"]);
    await waitUntil(() => exits() === 2, 2000, "the new outage logged");
    await p.stop();
  } finally {
    resetLogging();
  }
});

Deno.test("ping: every child silent (uplink gone) is one WARN per outage, one INFO when replies come back", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  const clock = new VirtualClock(0);
  const print = new Map<string, (line: string) => void>();
  let spawned = 0;
  // Alive but silent until told to print (a ping whose replies are lost).
  const spawn = (_cmd: string, args: readonly string[]): ChildHandle => {
    const c = talkingChild(++spawned, [], []);
    const enc = new TextEncoder();
    let out!: ReadableStreamDefaultController<Uint8Array>;
    const stdout = new ReadableStream<Uint8Array>({
      start: (ctl) => {
        out = ctl;
        void c.status.then(() => ctl.close());
      },
    });
    print.set(args.at(-1)!, (line) => out.enqueue(enc.encode(`${line}\n`)));
    return { ...c, stdout };
  };
  // The stagger of new pings takes no time; other sleeps last until cut short.
  const sleep = (_ms: number, signal?: AbortSignal) =>
    signal === undefined
      ? Promise.resolve()
      : new Promise<void>((r) => signal.addEventListener("abort", () => r()));
  const count = (re: RegExp) => records.filter((r) => re.test(r.rawMessage)).length;
  const reflectors = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
  const p = new ProcessPinger({ tool: "ping", tickS: 0.5, clock, spawn, sleep });
  try {
    await p.start(reflectors);
    await waitUntil(() => spawned === 3, 2000, "three pings");
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      await p.setReflectors(reflectors);
    }
    await waitUntil(() => spawned === 12, 2000, "three restarts of each");
    assertEquals(count(/printed no reply/), 1, "one WARN for the three, once per outage");
    assertEquals(count(/replies again/), 0);
    print.get("192.0.2.2")!("64 bytes from 192.0.2.2: icmp_seq=1 ttl=64 time=1.0 ms");
    await waitUntil(() => p.replyCount === 1, 2000, "a reply");
    assertEquals(count(/replies again/), 1);
    // 192.0.2.3, silent all along, was named already; once it replied, its silence alone among
    // live ones is news again, and the others' replies are no "again".
    print.get("192.0.2.3")!("64 bytes from 192.0.2.3: icmp_seq=1 ttl=64 time=1.0 ms");
    await waitUntil(() => p.replyCount === 2, 2000, "a reply");
    clock.advance(1);
    print.get("192.0.2.1")!("64 bytes from 192.0.2.1: icmp_seq=1 ttl=64 time=1.0 ms");
    print.get("192.0.2.2")!("64 bytes from 192.0.2.2: icmp_seq=2 ttl=64 time=1.0 ms");
    await waitUntil(() => p.replyCount === 4, 2000, "two replies");
    await p.setReflectors(reflectors);
    assertEquals(count(/printed no reply/), 2);
    print.get("192.0.2.1")!("64 bytes from 192.0.2.1: icmp_seq=2 ttl=64 time=1.0 ms");
    await waitUntil(() => p.replyCount === 5, 2000, "a reply");
    assertEquals(count(/replies again/), 1, "no INFO: the others were never silent");
  } finally {
    await p.stop();
    resetLogging();
  }
});

Deno.test("ping: a slow reflector without a route beside live ones is one WARN, not one per exit (v82)", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  const clock = new VirtualClock(0);
  const enc = new TextEncoder();
  let print!: (line: string) => void;
  let spawned = 0;
  // 192.0.2.1 answers when told to; 192.0.2.9's ping exits at once (seen in
  // src/measure/slow_netns_test.ts).
  const spawn = (_cmd: string, args: readonly string[]): ChildHandle => {
    if (args.at(-1) === "192.0.2.1") {
      const c = talkingChild(++spawned, [], []);
      const stdout = new ReadableStream<Uint8Array>({
        start: (ctl) => {
          print = (line) => ctl.enqueue(enc.encode(`${line}\n`));
          void c.status.then(() => ctl.close());
        },
      });
      return { ...c, stdout };
    }
    const c = talkingChild(++spawned, [], ["ping: connect: Network is unreachable"]);
    queueMicrotask(() => c.kill("SIGTERM"));
    return { ...c, status: c.status.then(() => ({ code: 2, signal: null })) };
  };
  // Each backoff lasts until the test lets it end; the others (a child's age) until cut short.
  const backoffs: (() => void)[] = [];
  const sleep = (ms: number, signal?: AbortSignal) =>
    signal === undefined ? Promise.resolve() : new Promise<void>((r) => {
      if (ms <= 30_000) backoffs.push(r);
      signal.addEventListener("abort", () => r());
    });
  const warns = () => records.filter((r) => r.level === "warning").map((r) => r.rawMessage);
  const p = new ProcessPinger({ tool: "ping", tickS: 0.5, clock, spawn, sleep });
  let seq = 0;
  const reply = async () => {
    const n = p.replyCount;
    print(`64 bytes from 192.0.2.1: icmp_seq=${++seq} ttl=64 time=1.0 ms`);
    await waitUntil(() => p.replyCount === n + 1, 2000, "a reply");
  };
  try {
    await p.start(["192.0.2.1"]);
    await waitUntil(() => spawned === 1, 2000, "the main ping");
    await reply();
    const slow = { reflectors: ["192.0.2.9"], periodS: 3 };
    await p.setReflectors(["192.0.2.1", "192.0.2.9"], { slow });
    for (let i = 1; i <= 4; i++) {
      await waitUntil(() => backoffs.length === i, 2000, `exit ${i}`);
      clock.advance(0.1);
      await reply(); // the main set's replies go on between the slow ping's exits
      backoffs[i - 1]();
    }
    assertEquals(warns().length, 1, warns().join("\n"));
  } finally {
    await p.stop();
    resetLogging();
  }
});

Deno.test("a short set's probe period reaches fping's command line, and restarts it for the same set (v76)", async () => {
  const args: (readonly string[])[] = [];
  const spawn = (_cmd: string, a: readonly string[]): ChildHandle => {
    args.push(a);
    return talkingChild(args.length, [], []);
  };
  const p = new ProcessPinger({ tool: "fping", tickS: 0.5, clock: new VirtualClock(0), spawn });
  const period = (i: number) => args[i][args[i].indexOf("--period") + 1];
  const interval = (i: number) => args[i][args[i].indexOf("--interval") + 1];
  await p.start(["9.9.9.9", "1.1.1.1"]);
  await waitUntil(() => args.length === 1, 2000, "the first child");
  assertEquals([period(0), interval(0)], ["500", "250"]);
  await p.setReflectors(["1.1.1.1", "9.9.9.9"], { periodS: 0.25 });
  await waitUntil(() => args.length === 2, 2000, "restarted at the new period");
  assertEquals([period(1), interval(1)], ["250", "125"]);
  await p.setReflectors(["1.1.1.1", "8.8.8.8"]);
  await waitUntil(() => args.length === 3, 2000, "back to the tick");
  assertEquals(period(2), "500");
  await p.stop();
});

Deno.test("a switch begun before the tick's wait completes during it: the wait turns the event loop while the pinger switches", async () => {
  const clock = new VirtualClock(0);
  let spawned = 0;
  const spawn = (): ChildHandle => {
    spawned++;
    let exit!: (s: ChildStatus) => void;
    const status = new Promise<ChildStatus>((r) => exit = r);
    const ended = () =>
      new ReadableStream<Uint8Array>({ start: (c) => void status.then(() => c.close()) });
    return {
      pid: spawned,
      stdout: ended(),
      stderr: ended(),
      status,
      // As a real child's exit, seen at a later turn of the event loop.
      kill: (signal) => void setTimeout(() => exit({ code: 143, signal }), 0),
    };
  };
  const p = new ProcessPinger({ tool: "fping", tickS: 0.5, clock, spawn });
  await p.start(["9.9.9.9", "1.1.1.1"]);
  assertEquals([spawned, p.switching], [1, false]);
  // The daemon's tick wait (src/cli/run_command.ts): the thread blocks unless the pinger switches.
  const waits: string[] = [];
  const tickSleep = blockingSleep({
    block: (ms) => waits.push(`block ${ms}`),
    longSleep: async (ms) => {
      waits.push(`timer ${ms}`);
      // A timer's wait: the event loop turns meanwhile (one turn here per 10 ms of it).
      for (let t = 0; t < ms; t += 10) await new Promise((r) => setTimeout(r, 0));
    },
    needsTurns: () => p.switching,
  });
  // The selector switches in the tick's last turn; the tick ends, its wait follows.
  const switched = p.setReflectors(["8.8.8.8", "1.1.1.1"]);
  assertEquals(p.switching, true);
  await tickSleep(90);
  assertEquals(waits, ["timer 90"]);
  assertEquals(spawned, 2, "the new child spawned during the wait, not at the next tick");
  assertEquals(p.switching, false);
  await switched;
  await tickSleep(90);
  assertEquals(waits, ["timer 90", "block 90"]);
  await p.stop();
});

/**
 * An fping pinger (fake children whose lines the test prints) started on four peers, each heard
 * once, 0.1 s apart in the given order: .1 is the oldest reply, .4 the newest. `args` holds each
 * child's command.
 */
async function fourPeersHeard(): Promise<
  { p: ProcessPinger; args: (readonly string[])[]; set: string[] }
> {
  const clock = new VirtualClock(0);
  const args: (readonly string[])[] = [];
  const print: ((line: string) => void)[] = [];
  const spawn = (_cmd: string, a: readonly string[]): ChildHandle => {
    args.push(a);
    const { child, print: printOf } = printingChild(args.length);
    print.push(printOf);
    return child;
  };
  const { p, replies } = fakeFping(clock, spawn);
  const set = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
  await p.start(set);
  for (const [i, ip] of set.entries()) {
    clock.advance(0.1);
    print[0](`${ip} : [0], 64 bytes, 1.00 ms (1.00 avg, 0% loss)`);
    await waitUntil(() => replies.length === i + 1, 2000, `reply ${i + 1}`);
  }
  return { p, args, set };
}

Deno.test("a new fping child probes the kept peers oldest reply first, new targets last", async () => {
  const { p, args, set } = await fourPeersHeard();
  await p.setReflectors(["10.0.0.4", "10.0.0.9", "10.0.0.2", "10.0.0.1"]);
  await waitUntil(() => args.length === 2, 2000, "the new child");
  assertEquals(args[0].slice(-4), set, "the first child: as given");
  assertEquals(args[1].slice(-4), ["10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.9"]);
  await p.stop();
});

Deno.test("a new fping child probes the kept peers oldest reply first after a slow group's child started (each child's command keeps the other's last replies)", async () => {
  const { p, args, set } = await fourPeersHeard();
  // A cycle whose draw is probed apart: the peers' child kept, the draw's spawned.
  await p.setReflectors([...set, "10.0.0.9"], {
    slow: { reflectors: ["10.0.0.9"], periodS: 2 },
  });
  await waitUntil(() => args.length === 2, 2000, "the draw's child");
  // Its selection, before the peers replied again (a short pool's, whose peers' period changes).
  await p.setReflectors(["10.0.0.4", "10.0.0.8", "10.0.0.2", "10.0.0.1"]);
  await waitUntil(() => args.length === 3, 2000, "the new peers' child");
  assertEquals(args[2].slice(-4), ["10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.8"]);
  await p.stop();
});

Deno.test("a slow group runs in a child of its own at its period; a change of it leaves the others' child running (v82)", async () => {
  const args: (readonly string[])[] = [];
  const killed: number[] = [];
  const spawn = (_cmd: string, a: readonly string[]): ChildHandle => {
    args.push(a);
    const child = talkingChild(args.length, [], []);
    const pid = args.length;
    return { ...child, kill: (s) => (killed.push(pid), child.kill(s)) };
  };
  const p = new ProcessPinger({ tool: "fping", tickS: 0.5, clock: new VirtualClock(0), spawn });
  const period = (i: number) => args[i][args[i].indexOf("--period") + 1];
  const targets = (i: number) => args[i].filter((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x)).sort();
  await p.start(["9.9.9.9", "1.1.1.1"]);
  await p.setReflectors(["1.1.1.1", "9.9.9.9"], { periodS: 0.4 });
  await waitUntil(() => args.length === 2, 2000, "the kept peers at their period");
  const slow = { reflectors: ["8.8.8.8", "8.8.4.4"], periodS: 2 };
  await p.setReflectors(["1.1.1.1", "9.9.9.9", "8.8.8.8", "8.8.4.4"], { periodS: 0.4, slow });
  await waitUntil(() => args.length === 3, 2000, "a child for the slow group");
  assertEquals([targets(2), period(2)], [["8.8.4.4", "8.8.8.8"], "2000"]);
  assertEquals(killed, [1], "the kept peers' child was not restarted");
  await p.setReflectors(["1.1.1.1", "9.9.9.9", "8.8.8.8", "8.8.4.4"], { periodS: 0.4, slow });
  await p.setReflectors(["1.1.1.1", "9.9.9.9"], { periodS: 0.4 });
  await waitUntil(() => killed.length === 2, 2000, "the slow child stopped");
  assertEquals([args.length, killed], [3, [1, 3]], "only the slow child stopped");
  await p.stop();
});

Deno.test("ping: a slow group's reflectors get their own -i (v82)", async () => {
  const args: (readonly string[])[] = [];
  const spawn = (_cmd: string, a: readonly string[]): ChildHandle => {
    args.push(a);
    return talkingChild(args.length, [], []);
  };
  const p = new ProcessPinger({
    tool: "ping",
    tickS: 0.5,
    clock: new VirtualClock(0),
    spawn,
    sleep: (_ms, signal) =>
      signal === undefined
        ? Promise.resolve()
        : new Promise<void>((r) => signal.addEventListener("abort", () => r())),
  });
  await p.start(["1.1.1.1"]);
  await p.setReflectors(["1.1.1.1", "8.8.8.8"], {
    slow: { reflectors: ["8.8.8.8"], periodS: 2 },
  });
  await waitUntil(() => args.length === 2, 2000, "one more ping");
  const interval = (i: number) => args[i][args[i].indexOf("-i") + 1];
  assertEquals([args[1].at(-1), interval(1), interval(0)], ["8.8.8.8", "2", "0.5"]);
  await p.stop();
});

/**
 * `ping` children in virtual time (sleeps wake when the test moves the time past them), each
 * modelled as sending at its start and every `-i` after until killed: `run` sets the reflectors,
 * the requests' send times come back (s).
 */
async function modelPingRequests(
  run: (p: ProcessPinger, advanceTo: (ms: number) => Promise<void>) => Promise<void>,
): Promise<{ sent: number[]; children: number }> {
  let nowMs = 0;
  const timers: { atMs: number; wake: () => void }[] = [];
  const sleep = (ms: number, signal?: AbortSignal) =>
    new Promise<void>((wake) => {
      timers.push({ atMs: nowMs + ms, wake });
      signal?.addEventListener("abort", () => wake());
    });
  const advanceTo = async (ms: number) => {
    for (;;) {
      for (let k = 0; k < 5; k++) await new Promise((r) => setTimeout(r, 0));
      const due = Math.min(ms, ...timers.map((t) => t.atMs));
      if (due >= ms && timers.every((t) => t.atMs > ms)) break;
      nowMs = Math.max(nowMs, due);
      for (const t of timers.filter((t) => t.atMs <= nowMs)) {
        timers.splice(timers.indexOf(t), 1);
        t.wake();
      }
    }
    nowMs = ms;
  };
  const children: { startMs: number; periodMs: number; endMs: number }[] = [];
  const spawn = (_cmd: string, a: readonly string[]): ChildHandle => {
    const child = {
      startMs: nowMs,
      periodMs: Number(a[a.indexOf("-i") + 1]) * 1000,
      endMs: Infinity,
    };
    children.push(child);
    const handle = talkingChild(children.length, [], []);
    return { ...handle, kill: (s) => (child.endMs = nowMs, handle.kill(s)) };
  };
  const p = new ProcessPinger({
    tool: "ping",
    tickS: 0.5,
    clock: new VirtualClock(0),
    spawn,
    sleep,
    supervisor: { killGraceMs: 0 },
  });
  await run(p, advanceTo);
  const sent: number[] = [];
  for (const c of children) {
    for (let t = c.startMs; t < Math.min(c.endMs, nowMs); t += c.periodMs) sent.push(t / 1000);
  }
  await p.stop();
  return { sent: sent.sort((a, b) => a - b), children: children.length };
}

const hosts = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

Deno.test("ping: a cycle's new children start spread over their own group's period, within 20 requests in any 1 s (v86, continued)", async () => {
  const peers = hosts("10.0.0.", 6);
  const draws = hosts("10.0.1.", 20);
  const r = await modelPingRequests(async (p, advanceTo) => {
    const started = p.start(peers);
    await advanceTo(2000);
    await started;
    // The embedded list's cycle: the peers at the tick, the 20 draws apart (cycle_budget.ts).
    const cycle = p.setReflectors([...peers, ...draws], {
      slow: { reflectors: draws, periodS: 20 / 6 },
    });
    // Switching while the draws are started: the control loop's waits are timers meanwhile.
    await advanceTo(3000);
    assert(p.switching, "switching while started spread");
    await advanceTo(12_000);
    await cycle;
    assert(!p.switching);
  });
  assertEquals(r.children, 26);
  const most = mostInWindow(r.sent, 1);
  assert(most <= MAX_PROBES_PER_S, `${most} requests in a 1 s window`);
});

Deno.test("ping: children whose period changes stop at once and restart spread, not left at the old rate (v86, continued)", async () => {
  // A short pool's cycle of nine at the tick; three answer: kept at 0.3 s, six watched every 3 s.
  const kept = hosts("10.0.0.", 3);
  const silent = hosts("10.0.9.", 6);
  const r = await modelPingRequests(async (p, advanceTo) => {
    const started = p.start([...kept, ...silent]);
    await advanceTo(2000);
    await started;
    const short = p.setReflectors([...kept, ...silent], {
      periodS: 0.3,
      slow: { reflectors: silent, periodS: 3 },
    });
    await advanceTo(10_000);
    await short;
  });
  assertEquals(r.children, 18);
  const most = mostInWindow(r.sent.filter((t) => t >= 2), 1);
  assert(most <= MAX_PROBES_PER_S, `${most} requests in a 1 s window`);
});

Deno.test("ping: a cycle right after a selection (new peers, new draws) starts each group a gap after the switch, within 20 in any 1 s (v86, continued)", async () => {
  const peers = hosts("10.0.0.", 6);
  const first = hosts("10.0.1.", 20);
  const selected = first.slice(0, 5);
  const second = hosts("10.0.2.", 20);
  const r = await modelPingRequests(async (p, advanceTo) => {
    const started = p.start(peers);
    await advanceTo(2000);
    await started;
    const cycles = [
      p.setReflectors([...peers, ...first], { slow: { reflectors: first, periodS: 20 / 6 } }),
    ];
    await advanceTo(6900);
    // The selection, and at once the next cycle (a request at the first one's start).
    cycles.push(p.setReflectors(selected));
    cycles.push(p.setReflectors([...selected, ...second], {
      slow: { reflectors: second, periodS: 20 / 6 },
    }));
    await advanceTo(16_000);
    await Promise.all(cycles);
  });
  // Each group's first process at the switch, beside the last second of the old ones: 21.
  const most = mostInWindow(r.sent, 1);
  assert(most <= MAX_PROBES_PER_S, `${most} requests in a 1 s window`);
});

Deno.test("spawnedS: when fping's child for the set was last spawned (a set given while the old one is still being ended spawns later), not a slow group's", async () => {
  const clock = new VirtualClock(0);
  const spawned: { atS: number; args: readonly string[] }[] = [];
  const spawn = (_cmd: string, args: readonly string[]): ChildHandle => {
    spawned.push({ atS: clock.monotonicS(), args });
    return printingChild(spawned.length).child;
  };
  const { p } = fakeFping(clock, spawn);
  assertEquals(p.spawnedS, -Infinity);
  await p.start(["9.9.9.9", "1.1.1.1"]);
  await waitUntil(() => spawned.length === 1, 2000, "the first child");
  assertEquals(p.spawnedS, 0);
  clock.advance(2);
  // A cycle's candidates: the child is restarted; its spawn, not the call, is what counts
  // (src/reflectors/selector.ts, `#fromSpawn`).
  const set = p.setReflectors(["9.9.9.9", "1.1.1.1", "8.8.8.8"]);
  clock.advance(0.7);
  await set;
  await waitUntil(() => spawned.length === 2, 2000, "the new set's child");
  assertEquals(p.spawnedS, spawned[1].atS);
  // A slow group alone (the same main set) spawns a child of its own: not the set's.
  await p.setReflectors(["9.9.9.9", "1.1.1.1", "8.8.8.8", "4.4.4.4"], {
    periodS: 0.5,
    slow: { reflectors: ["4.4.4.4"], periodS: 3 },
  });
  await waitUntil(() => spawned.length === 3, 2000, "the slow child");
  assertEquals(p.spawnedS, spawned[1].atS);
  await p.stop();
});
