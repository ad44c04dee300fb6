import { assert, assertEquals } from "../util/assert.ts";
import {
  BACKOFF_HISTORY_KEEP,
  type ChildHandle,
  type ChildStatus,
  ChildSupervisor,
  pumpLines,
  WARNED_EXITS_KEEP,
} from "./supervisor.ts";
import type { Sleep } from "../util/clock.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, resetLogging } from "../log/mod.ts";

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

Deno.test("pumpLines splits chunks into lines, handles CRLF and a last partial line", async () => {
  const got: string[] = [];
  await pumpLines(streamOf("a\nb", "c\r\n", "\n", "tail"), (l) => got.push(l));
  assertEquals(got, ["a", "bc", "", "tail"]);
});

Deno.test("real process: exits are restarted with exponential backoff capped at 30 s", async () => {
  const lines: string[] = [];
  const errLines: string[] = [];
  const sleeps: number[] = [];
  let sup: ChildSupervisor | undefined = undefined;
  let stopping: Promise<void> | undefined;
  // Instant sleep that records backoff delays; stop after 8 restarts.
  const sleep: Sleep = (ms) => {
    sleeps.push(ms);
    if (sleeps.length === 8) stopping = sup!.stop();
    return Promise.resolve();
  };
  const statuses: ChildStatus[] = [];
  sup = new ChildSupervisor({
    name: "sh",
    command: () => ({ cmd: "sh", args: ["-c", "echo x; echo oops >&2; exit 1"] }),
    onStdoutLine: (l) => lines.push(l),
    onStderrLine: (l) => errLines.push(l),
    onExit: (s) => statuses.push(s),
    sleep,
  });
  sup.start();
  while (stopping === undefined) await new Promise((r) => setTimeout(r, 5));
  await stopping;
  assertEquals(sleeps, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assertEquals(sup.backoffHistory, sleeps);
  assertEquals(sup.spawns, 8);
  assertEquals(lines, Array(8).fill("x"));
  assertEquals(errLines, Array(8).fill("oops"));
  assert(statuses.every((s) => s.code === 1));
  assertEquals(sup.lastExitReason, "exited with code 1 (stderr: oops)");
});

Deno.test("real process: stop kills a running child with SIGTERM and reaps it", async () => {
  let spawned!: () => void;
  const started = new Promise<void>((r) => spawned = r);
  const statuses: ChildStatus[] = [];
  const sup = new ChildSupervisor({
    name: "sleep",
    command: () => ({ cmd: "sh", args: ["-c", "echo ready; exec sleep 30"] }),
    onStdoutLine: (l) => l === "ready" && spawned(),
    onExit: (s) => statuses.push(s),
  });
  sup.start();
  await started;
  const pid = sup.pid!;
  await sup.stop();
  assertEquals(statuses.length, 1);
  assertEquals(statuses[0].signal, "SIGTERM");
  assertEquals(sup.pid, undefined);
  // the process is gone (kill -0 fails)
  const probe = await new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" })
    .output();
  assert(!probe.success);
});

Deno.test("real process: a child ignoring SIGTERM gets SIGKILL after the grace period", async () => {
  let ready!: () => void;
  const started = new Promise<void>((r) => ready = r);
  const statuses: ChildStatus[] = [];
  const sup = new ChildSupervisor({
    name: "stubborn",
    command: () => ({
      cmd: "sh",
      args: ["-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"],
    }),
    onStdoutLine: (l) => l === "ready" && ready(),
    onExit: (s) => statuses.push(s),
    killGraceMs: 200,
  });
  sup.start();
  await started;
  await sup.stop();
  assertEquals(statuses[0].signal, "SIGKILL");
});

/** A fake child that exits when told to. */
function fakeChild(pid: number) {
  let exit!: (s: ChildStatus) => void;
  const status = new Promise<ChildStatus>((r) => exit = r);
  const handle: ChildHandle = {
    pid,
    stdout: streamOf(),
    stderr: streamOf(),
    status,
    kill: (signal) => exit({ code: 143, signal }),
  };
  return { handle, exit };
}

Deno.test("backoff resets after a healthy run; restart() respawns at once; spawn errors back off", async () => {
  let now = 0;
  const children: ReturnType<typeof fakeChild>[] = [];
  let failNext = 0;
  const sleeps: number[] = [];
  const spawn = () => {
    if (failNext > 0) {
      failNext--;
      throw new Deno.errors.NotFound("no such binary");
    }
    const c = fakeChild(children.length + 1);
    children.push(c);
    return c.handle;
  };
  const commands: number[] = [];
  const sup = new ChildSupervisor({
    name: "fake",
    command: () => {
      commands.push(now);
      return { cmd: "x", args: [] };
    },
    onStdoutLine: () => {},
    spawn,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    now: () => now,
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  sup.start();
  await tick();
  children[0].exit({ code: 1, signal: null }); // quick failure → 1 s
  await tick();
  children[1].exit({ code: 1, signal: null }); // → 2 s
  await tick();
  now += 31; // healthy run
  children[2].exit({ code: 1, signal: null }); // → back to 1 s
  await tick();
  await sup.restart(); // deliberate: no backoff
  await tick();
  assertEquals(children.length, 5);
  failNext = 2;
  children[4].exit({ code: 1, signal: null }); // 2 s, then spawn fails twice: 4 s, 8 s
  for (let i = 0; i < 5; i++) await tick();
  assertEquals(children.length, 6);
  await sup.stop();
  assertEquals(sup.backoffHistory, [1000, 2000, 1000, 2000, 4000, 8000]);
  assert(sleeps.length > sup.backoffHistory.length); // plus kill grace periods
});

Deno.test("a child failing for months of virtual time: the backoff history stays bounded", async () => {
  const restarts = 5000; // ~42 h of a child failing every 30 s
  let sup: ChildSupervisor | undefined = undefined;
  let stopping: Promise<void> | undefined;
  let spawned = 0;
  const spawn = () => {
    const c = fakeChild(++spawned);
    queueMicrotask(() => c.exit({ code: 1, signal: null })); // exits at once, every time
    return c.handle;
  };
  sup = new ChildSupervisor({
    name: "failing",
    command: () => ({ cmd: "x", args: [] }),
    onStdoutLine: () => {},
    spawn,
    sleep: () => {
      if (spawned === restarts && stopping === undefined) stopping = sup!.stop();
      return Promise.resolve();
    },
    now: () => 0,
  });
  sup.start();
  while (stopping === undefined) await new Promise((r) => setTimeout(r, 0));
  await stopping;
  assertEquals(sup.spawns, restarts);
  assertEquals(sup.backoffHistory.length, BACKOFF_HISTORY_KEEP);
  assert(sup.backoffHistory.every((ms) => ms === 30_000), "the newest delays are kept");
});

Deno.test("maxAgeS: a child that ran that long is replaced at once; an exited child's timer does nothing", async () => {
  const children: ReturnType<typeof fakeChild>[] = [];
  /** The pending age timers, resolved by the test (they also end on their abort signal). */
  const ageTimers: (() => void)[] = [];
  const sup = new ChildSupervisor({
    name: "fake",
    command: () => ({ cmd: "x", args: [] }),
    onStdoutLine: () => {},
    spawn: () => {
      const c = fakeChild(children.length + 1);
      children.push(c);
      return c.handle;
    },
    sleep: (ms, signal) => {
      if (ms !== 3_600_000) return Promise.resolve(); // backoff, kill grace
      return new Promise<void>((resolve) => {
        ageTimers.push(resolve);
        signal?.addEventListener("abort", () => resolve(), { once: true });
      });
    },
    now: () => 0,
    maxAgeS: 3600,
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  sup.start();
  await tick();
  assertEquals(children.length, 1);
  ageTimers[0](); // an hour has passed
  for (let i = 0; i < 3; i++) await tick();
  assertEquals(children.length, 2, "replaced");
  assertEquals(sup.backoffHistory, [], "a replacement, not a failure: no backoff");
  children[1].exit({ code: 1, signal: null }); // the second one fails on its own
  for (let i = 0; i < 3; i++) await tick();
  assertEquals(children.length, 3);
  ageTimers[1](); // the failed child's timer (already aborted) must not restart the third
  for (let i = 0; i < 3; i++) await tick();
  assertEquals(children.length, 3);
  assertEquals(sup.backoffHistory, [1000]);
  await sup.stop();
});

Deno.test("a hung child asked to restart twice during its kill grace gets one SIGKILL", async () => {
  const signals: string[] = [];
  const children: ChildHandle[] = [];
  const graces: (() => void)[] = [];
  const spawn = () => {
    // Stopped (SIGSTOP): a SIGTERM stays pending, only SIGKILL ends it.
    let exit!: (s: ChildStatus) => void;
    const status = new Promise<ChildStatus>((r) => exit = r);
    const handle: ChildHandle = {
      pid: children.length + 1,
      stdout: streamOf(),
      stderr: streamOf(),
      status,
      kill: (signal) => {
        signals.push(`${handle.pid} ${signal}`);
        if (signal === "SIGKILL") exit({ code: 137, signal });
      },
    };
    children.push(handle);
    return handle;
  };
  const sup = new ChildSupervisor({
    name: "fake",
    command: () => ({ cmd: "x", args: [] }),
    onStdoutLine: () => {},
    spawn,
    sleep: () => new Promise<void>((r) => graces.push(r)),
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  sup.start();
  await tick();
  const first = sup.restart();
  const second = sup.restart();
  await tick();
  for (const r of graces.splice(0)) r();
  await Promise.all([first, second]);
  await tick();
  assertEquals(signals, ["1 SIGTERM", "1 SIGKILL"]);
  assertEquals(children.length, 2);
  const stopping = sup.stop();
  await tick();
  for (const r of graces.splice(0)) r();
  await stopping;
});

Deno.test("restarting: from restart() until the next spawn (or a failed spawn, or stop)", async () => {
  const children: ReturnType<typeof fakeChild>[] = [];
  let failNext = false;
  const spawn = () => {
    if (failNext) {
      failNext = false;
      throw new Deno.errors.NotFound("no such binary");
    }
    const c = fakeChild(children.length + 1);
    children.push(c);
    return c.handle;
  };
  const sup = new ChildSupervisor({
    name: "fake",
    command: () => ({ cmd: "x", args: [] }),
    onStdoutLine: () => {},
    spawn,
    // A backoff (and a kill grace) lasts until cut short.
    sleep: (_ms, signal) =>
      new Promise<void>((r) => signal?.addEventListener("abort", () => r(), { once: true })),
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  assertEquals(sup.restarting, false);
  await sup.restart(); // not started: nothing to restart
  assertEquals(sup.restarting, false);
  sup.start();
  assertEquals(sup.restarting, false);
  const restarted = sup.restart();
  assertEquals(sup.restarting, true, "the old child killed, the next not yet spawned");
  await restarted;
  await tick();
  assertEquals(children.length, 2);
  assertEquals(sup.restarting, false, "the next child spawned");
  failNext = true;
  void sup.restart();
  await tick();
  assertEquals(children.length, 2);
  assertEquals(sup.restarting, false, "the spawn failed: a backoff, no restart under way");
  void sup.restart(); // cuts the backoff short
  assertEquals(sup.restarting, true);
  await tick();
  assertEquals(children.length, 3);
  assertEquals(sup.restarting, false);
  void sup.restart();
  const stopping = sup.stop();
  assertEquals(sup.restarting, false, "stopped: no spawn follows");
  await stopping;
});

Deno.test("a child failing the same way again and again is logged at WARN once, until one runs healthy", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  let now = 0;
  let stderr = "ping: connect: Network is unreachable";
  const children: ReturnType<typeof fakeChild>[] = [];
  const spawn = () => {
    const c = fakeChild(children.length + 1);
    children.push(c);
    return { ...c.handle, stderr: streamOf(`${stderr}\n`) };
  };
  const sup = new ChildSupervisor({
    name: "ping 192.0.2.1",
    command: () => ({ cmd: "x", args: [] }),
    onStdoutLine: () => {},
    spawn,
    sleep: () => Promise.resolve(),
    now: () => now,
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  const warnings = () => records.filter((r) => /restarting in/.test(r.rawMessage)).length;
  try {
    sup.start();
    for (let i = 0; i < 6; i++) {
      await tick();
      children.at(-1)!.exit({ code: 2, signal: null }); // a route is gone: exits at once
    }
    await tick();
    assertEquals(warnings(), 1);
    stderr = "ping: connect: No route to host"; // another reason: logged
    children.at(-1)!.exit({ code: 2, signal: null });
    await tick();
    children.at(-1)!.exit({ code: 2, signal: null });
    await tick();
    assertEquals(warnings(), 2);
    now += 31; // the route is back: a healthy run, then the same failure is a new fault
    children.at(-1)!.exit({ code: 2, signal: null });
    await tick();
    assertEquals(warnings(), 3);
    await tick();
    now += 31; // a healthy run ended by a deliberate restart (the route goes again)
    await sup.restart();
    await tick();
    children.at(-1)!.exit({ code: 2, signal: null });
    await tick();
    assertEquals(warnings(), 4, `${children.length} ${records.map((r) => r.rawMessage)}`);
    await sup.stop();
  } finally {
    resetLogging();
  }
});

Deno.test("a child failing with a different message each time for months: the exit reasons remembered stay bounded", async () => {
  // fping's or ping's last stderr lines are part of the reason: one that names a sequence number
  // or a time differs every failure (without the bound: one reason more per failure, 5000).
  const restarts = 5000;
  const warned = new Set<string>();
  let sup: ChildSupervisor | undefined = undefined;
  let stopping: Promise<void> | undefined;
  let spawned = 0;
  const spawn = () => {
    const c = fakeChild(++spawned);
    queueMicrotask(() => c.exit({ code: 1, signal: null }));
    return { ...c.handle, stderr: streamOf(`fping: send error ${spawned}\n`) };
  };
  sup = new ChildSupervisor({
    name: "fping",
    command: () => ({ cmd: "x", args: [] }),
    onStdoutLine: () => {},
    spawn,
    sleep: () => {
      if (spawned === restarts && stopping === undefined) stopping = sup!.stop();
      return Promise.resolve();
    },
    now: () => 0,
    warnedExits: warned,
  });
  configureLogging("FATAL", { sink: () => {} });
  try {
    sup.start();
    while (stopping === undefined) await new Promise((r) => setTimeout(r, 0));
    await stopping;
  } finally {
    resetLogging();
  }
  assertEquals(sup.spawns, restarts);
  assertEquals(warned.size, WARNED_EXITS_KEEP);
  assert([...warned].at(-1)!.includes(`send error ${restarts}`), [...warned].at(-1));
});
