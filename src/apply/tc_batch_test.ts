import { assert, assertEquals, assertRejects } from "../util/assert.ts";
import { VirtualClock } from "../util/clock.ts";
import type { CommandResult, CommandRunner } from "../util/command.ts";
import type { Logger } from "../log/logger.ts";
import type { ProcessSpawner, SpawnedProcess } from "../util/coprocess.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { EwmaController } from "../ratecontroller/ewma.ts";
import { ControlLoop } from "../control/loop.ts";
import { ChangeNotTried } from "../control/ports.ts";
import { CakeShaper, createShaperPair } from "./shaper.ts";
import { notTried, TC_CHANGES_PER_PROCESS, TcBatch, type TcBatchOptions } from "./tc_batch.ts";
import { recordingLogger } from "../log/recording_testing.ts";

/** A change given up or not tried (no tc answered it). */
const givenUp = (r: CommandResult) => notTried(r) !== undefined;

const encoder = new TextEncoder();

/** `tc` arguments of a change of `dev`'s root CAKE to `kbit`. */
function cakeChange(dev: string, kbit: number): string[] {
  return ["qdisc", "change", "root", "dev", dev, "cake", "bandwidth", `${kbit}Kbit`];
}

/**
 * Runs `fn` with the abort listeners put on signals counted: `added` every one added, `live`
 * those not removed again. The prototype's methods are restored after it.
 */
async function countingAbortListeners(
  fn: (count: { added: number; live: number }) => Promise<void>,
): Promise<void> {
  const count = { added: 0, live: 0 };
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (this: EventTarget, type, l, o) {
    if (this instanceof AbortSignal && type === "abort") {
      count.added++;
      count.live++;
    }
    return add.call(this, type, l, o);
  };
  EventTarget.prototype.removeEventListener = function (this: EventTarget, type, l, o) {
    if (this instanceof AbortSignal && type === "abort") count.live--;
    return remove.call(this, type, l, o);
  };
  try {
    await fn(count);
  } finally {
    EventTarget.prototype.addEventListener = add;
    EventTarget.prototype.removeEventListener = remove;
  }
}

/**
 * An in-process stand-in for `tc -force -batch -`: reads lines, answers like tc on stderr
 * (nothing for a line that works; its message and `Command failed -:N` for one that fails), and
 * records the lines. `fail(line)` decides which lines fail; `hang` stops answering; `die` takes
 * the lines without answering and exits (an ssh whose connection dropped); `lateMs` delays the
 * answers. `show(line)` is the stdout line a query prints (tc -j's JSON), sent after the marker's
 * report when `outLate` (the streams are not ordered between them).
 */
class FakeTcProcess implements SpawnedProcess {
  static nextPid = 1000;
  readonly pid = FakeTcProcess.nextPid++;
  readonly lines: string[] = [];
  /** What each write brought (a write of several lines is one entry). */
  readonly writes: string[] = [];
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<unknown>;
  hang = false;
  /** Lines from this one on (1-based) get no answer. */
  hangFrom = Infinity;
  die = false;
  /** Answers this late, ms (a connection being set up). */
  lateMs = 0;
  /** A query's stdout line comes after the marker's report. */
  outLate = false;
  /** Stderr answers are held until `release()` (a connection being set up). */
  holding = false;
  readonly #held: Uint8Array[] = [];
  #err!: ReadableStreamDefaultController<Uint8Array>;
  #out!: ReadableStreamDefaultController<Uint8Array>;
  #exit!: () => void;
  #exited = false;

  constructor(
    fail: (line: string) => string | undefined,
    show: (line: string) => string | undefined = () => undefined,
  ) {
    this.status = new Promise<void>((r) => this.#exit = r);
    this.stdout = new ReadableStream({ start: (c) => void (this.#out = c) });
    this.stderr = new ReadableStream({ start: (c) => void (this.#err = c) });
    const decoder = new TextDecoder();
    let buf = "";
    this.stdin = new WritableStream({
      write: (chunk) => {
        if (this.#exited) throw new Error("broken pipe");
        this.writes.push(decoder.decode(chunk));
        buf += this.writes.at(-1);
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          this.lines.push(line);
          if (this.die) queueMicrotask(() => this.exit());
          if (this.hang || this.die || this.lines.length >= this.hangFrom) continue;
          const message = line === "sqma-sync"
            ? 'Object "sqma-sync" is unknown, try "tc help".'
            : fail(line);
          const out = message === undefined ? show(line) : undefined;
          if (out !== undefined) {
            const print = () => this.#exited || this.#out.enqueue(encoder.encode(`${out}\n`));
            if (this.outLate) setTimeout(print, 5);
            else print();
          }
          if (message !== undefined) {
            const answer = encoder.encode(`${message}\nCommand failed -:${this.lines.length}\n`);
            if (this.holding) this.#held.push(answer);
            else if (this.lateMs === 0) this.#err.enqueue(answer);
            else setTimeout(() => this.#exited || this.#err.enqueue(answer), this.lateMs);
          }
        }
      },
      close: () => this.exit(),
    });
  }

  kill(): void {
    this.exit();
  }

  /** Sends the answers held so far, and those to come at once (the connection is up). */
  release(): void {
    this.holding = false;
    for (const answer of this.#held.splice(0)) if (!this.#exited) this.#err.enqueue(answer);
  }

  /** Ends the process (stdout/stderr close, status resolves). */
  exit(): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#out.close();
    this.#err.close();
    this.#exit();
  }
}

/**
 * The control loop (EWMA controller, 5 peers, base rates 100000/20000 kbit on ifb4wan/wan) over
 * cake shapers whose changes go through a TcBatch on `tc`; both counters read `bytes()`.
 */
function ewmaCakeLoop(tc: ReturnType<typeof fakeTc>, bytes: () => number) {
  const settings = settingsWithDefaults({
    base_dl_rate: 100000,
    base_ul_rate: 20000,
    dl_if: "ifb4wan",
    ul_if: "wan",
  });
  const clock = new VirtualClock(100);
  const peers = ["p1", "p2", "p3", "p4", "p5"];
  const owd = createOwdState(peers);
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, clock });
  const shapers = createShaperPair({ ...settings, shaper: "cake" }, { batch });
  const loop = new ControlLoop({
    settings,
    clock,
    owd,
    reselect: { requestReselect: () => {} },
    controller: new EwmaController(settings, () => 0.5),
    counters: {
      read: () =>
        Promise.resolve({ dlBytes: bytes(), ulBytes: bytes(), dlIfindex: 1, ulIfindex: 2 }),
    },
    shaper: shapers,
  });
  return { clock, peers, owd, loop, shapers };
}

/** A batch on `tc` whose changes wait for no timeout, only for close()'s or stopping()'s 20 ms grace. */
function graceBatch(tc: ReturnType<typeof fakeTc>): TcBatch {
  return new TcBatch({ spawn: tc.spawn, runner: tc.runner, timeoutMs: 60_000, closeGraceMs: 20 });
}

/** A spawner of fake tc processes that counts spawns; `broken` makes spawning throw. */
/**
 * A batch over `tc` whose coprocesses hold their answers while `connecting()` was true when they
 * started (an ssh connecting: `release()` connects), replaced after every 2 changes, with
 * `whileConnecting`; `logger` sees its debug lines.
 */
function connectingBatch(
  tc: ReturnType<typeof fakeTc>,
  connecting: () => boolean,
  options: Pick<TcBatchOptions, "whileConnecting" | "logger">,
): TcBatch {
  return new TcBatch({
    spawn: (argv) => {
      const p = tc.spawn(argv) as FakeTcProcess;
      p.holding = connecting();
      return p;
    },
    runner: tc.runner,
    changesPerProcess: 2,
    whileConnecting: options.whileConnecting,
    logger: options.logger,
  });
}

/** A logger whose `debugged(text)` resolves at the first debug line containing `text`. */
function debugWatcher(): { logger: Logger; debugged: (text: string) => Promise<void> } {
  const waiters: { text: string; resolve: () => void }[] = [];
  const none = () => {};
  const logger: Logger = {
    category: ["tc"],
    trace: none,
    debug: (m) => {
      for (const w of waiters.filter((w) => m.includes(w.text))) w.resolve();
    },
    info: none,
    warn: none,
    warning: none,
    error: none,
    fatal: none,
  };
  return {
    logger,
    debugged: (text) => new Promise((resolve) => waiters.push({ text, resolve })),
  };
}

function fakeTc(
  fail: (line: string) => string | undefined = () => undefined,
  show?: (line: string) => string | undefined,
) {
  const procs: FakeTcProcess[] = [];
  const argvs: string[][] = [];
  let broken = false;
  const spawn: ProcessSpawner = (argv) => {
    argvs.push([...argv]);
    if (broken) throw new Error("No such file or directory (os error 2)");
    const p = new FakeTcProcess(fail, show);
    procs.push(p);
    return p;
  };
  const runs: string[][] = [];
  const runner: CommandRunner = (binary, args) => {
    runs.push([binary, ...args]);
    return Promise.resolve({ code: 0, stdout: "", stderr: "" });
  };
  return {
    spawn,
    runner,
    procs,
    argvs,
    runs,
    setBroken: (b: boolean) => broken = b,
  };
}

/** A cake shaper on `wan` changed through `batch`, whose root-qdisc queries are recorded. */
function recordingCake(batch: TcBatch): { shaper: CakeShaper; queries: string[][] } {
  const queries: string[][] = [];
  const shaper = new CakeShaper("wan", {
    batch,
    runner: (binary, args) => {
      queries.push([binary, ...args]);
      const root = '[{"kind":"cake","handle":"8001:","root":true,"options":{"bandwidth":125000}}]';
      return Promise.resolve({ code: 0, stdout: root, stderr: "" });
    },
  });
  return { shaper, queries };
}

Deno.test("TcBatch: one coprocess, one line per change, tc's message for a failing line", async () => {
  const tc = fakeTc((line) => line.includes("dev nope") ? 'Cannot find device "nope"' : undefined);
  const batch = new TcBatch({ command: ["tc", "-n", "ns1"], spawn: tc.spawn, runner: tc.runner });
  const ok = await batch.run([
    "qdisc",
    "change",
    "root",
    "dev",
    "wan",
    "cake",
    "bandwidth",
    "5Kbit",
  ]);
  assertEquals(ok.code, 0);
  const bad = await batch.run(["qdisc", "change", "root", "dev", "nope", "cake"]);
  assertEquals(bad, { code: 1, stdout: "", stderr: 'Cannot find device "nope"' });
  const again = await batch.run(["class", "change", "dev", "wan", "classid", "1:1", "htb"]);
  assertEquals(again.code, 0);
  assertEquals(tc.argvs, [["tc", "-n", "ns1", "-j", "-force", "-batch", "-"]]);
  assertEquals(tc.procs[0].lines, [
    "qdisc change root dev wan cake bandwidth 5Kbit",
    "sqma-sync",
    "qdisc change root dev nope cake",
    "sqma-sync",
    "class change dev wan classid 1:1 htb",
    "sqma-sync",
  ]);
  assertEquals(tc.runs, []);
  await batch.close();
});

Deno.test("TcBatch: cannot start → spawns per change, retries the coprocess with growing delays", async () => {
  const tc = fakeTc();
  const clock = new VirtualClock(0);
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, clock });
  tc.setBroken(true);
  const change = ["qdisc", "change", "root", "dev", "wan", "cake", "bandwidth", "1Kbit"];
  const attemptsAt: number[] = [];
  for (let t = 0; t <= 8; t += 0.5) {
    clock.set(t);
    const before = tc.argvs.length;
    assertEquals((await batch.run(change)).code, 0);
    if (tc.argvs.length > before) attemptsAt.push(t);
  }
  // At once, at once again, then 1 s, 2 s, 4 s after the previous failure.
  assertEquals(attemptsAt, [0, 0.5, 1.5, 3.5, 7.5]);
  assertEquals(tc.runs.length, 17, "every change ran as a spawned tc meanwhile");
  tc.setBroken(false);
  clock.set(8 + 8);
  await batch.run(change);
  assertEquals(tc.procs.length, 1, "back on the coprocess");
  assertEquals(tc.runs.length, 17);
  await batch.close();
});

Deno.test("TcBatch: a tc that cannot be started is logged at WARN once, not at every restart delay", async () => {
  // `tc` missing for minutes (docs/operation.md, "Months of faults: the twenty-eighth session's
  // walk"): each retry of the coprocess (up to every 60 s) logged the same WARN again.
  const dir = await Deno.makeTempDir();
  const clock = new VirtualClock(0);
  const { logger, lines } = recordingLogger();
  const batch = new TcBatch({ command: [`${dir}/tc`], clock, logger });
  try {
    const change = ["qdisc", "change", "root", "dev", "lo", "tbf", "rate", "1Mbit"];
    for (let i = 0; i < 4; i++) {
      assert((await batch.run(change)).code !== 0, "no tc: the change fails");
      clock.advance(100); // past the restart delay
    }
    assertEquals(
      lines.filter((l) => l.includes("cannot start")).map((l) => l.split(" ")[0]),
      ["WARN", "DEBUG", "DEBUG", "DEBUG"],
    );
  } finally {
    await batch.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TcBatch: a coprocess that dies or hangs is replaced; that change is spawned", async () => {
  const tc = fakeTc();
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, timeoutMs: 50 });
  const change = ["qdisc", "change", "root", "dev", "wan", "cake", "bandwidth", "1Kbit"];
  await batch.run(change);
  tc.procs[0].exit();
  assertEquals((await batch.run(change)).code, 0);
  assertEquals(tc.runs.length, 1, "the change that found it dead ran as a spawned tc");
  await batch.run(change);
  assertEquals(tc.procs.length, 2, "restarted at once after the first failure");
  assertEquals(tc.runs.length, 1);
  tc.procs[1].hang = true;
  assertEquals((await batch.run(change)).code, 0);
  assertEquals(tc.runs.length, 2, "the unanswered change ran as a spawned tc");
  await batch.close();
});

Deno.test("TcBatch: changes asked together go in one write, each answered by its own marker", async () => {
  const tc = fakeTc((line) => line.includes("dev nope") ? 'Cannot find device "nope"' : undefined);
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner });
  const dl = ["qdisc", "change", "root", "dev", "ifb4wan", "cake", "bandwidth", "9Kbit"];
  const ul = ["qdisc", "change", "root", "dev", "nope", "cake", "bandwidth", "5Kbit"];
  const [a, b] = await Promise.all([batch.run(dl), batch.run(ul)]);
  assertEquals(a, { code: 0, stdout: "", stderr: "" });
  assertEquals(b, { code: 1, stdout: "", stderr: 'Cannot find device "nope"' });
  assertEquals(tc.procs[0].writes, [`${dl.join(" ")}\nsqma-sync\n${ul.join(" ")}\nsqma-sync\n`]);
  // The line numbers go on: a later change is told from the two before.
  const [c, d] = await Promise.all([batch.run(ul), batch.run(dl)]);
  assertEquals([c.code, d.code], [1, 0]);
  assertEquals((await batch.run(dl)).code, 0);
  assertEquals(tc.procs[0].writes.length, 3);
  assertEquals(tc.runs, []);
  await batch.close();
});

Deno.test("TcBatch: of two changes written together, one answered and one not: the first is made, the second spawned", async () => {
  const tc = fakeTc();
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, timeoutMs: 50 });
  const dl = ["qdisc", "change", "root", "dev", "ifb4wan", "cake", "bandwidth", "9Kbit"];
  const ul = ["qdisc", "change", "root", "dev", "wan", "cake", "bandwidth", "5Kbit"];
  await batch.run(dl);
  // Lines 3 and 4 (the first change written together and its marker) answered, not 5 and 6.
  tc.procs[0].hangFrom = 5;
  const [a, b] = await Promise.all([batch.run(dl), batch.run(ul)]);
  assertEquals([a.code, b.code], [0, 0]);
  assertEquals(tc.procs[0].writes.length, 2);
  assertEquals(tc.runs, [["tc", ...ul]], "only the unanswered change ran as a spawned tc");
  await batch.close();
});

Deno.test("TcBatch: two changes written together that get no answer are both given up by stopping(); the exit rates go together to a fresh coprocess", async () => {
  const tc = fakeTc();
  const batch = graceBatch(tc);
  const dl = ["qdisc", "change", "root", "dev", "ifb4wan", "cake", "bandwidth", "9Kbit"];
  const ul = ["qdisc", "change", "root", "dev", "wan", "cake", "bandwidth", "5Kbit"];
  await batch.run(dl);
  tc.procs[0].hang = true;
  const hung = Promise.all([batch.run(dl), batch.run(ul)]);
  batch.stopping();
  const [a, b] = await hung;
  assert(givenUp(a) && givenUp(b), JSON.stringify([a, b]));
  assertEquals(tc.runs, [], "no fallback tc for a change given up");
  const [c, d] = await Promise.all([batch.run(dl), batch.run(ul)]);
  assertEquals([c.code, d.code], [0, 0]);
  assertEquals(tc.procs.length, 2);
  assertEquals(tc.procs[1].writes, [`${dl.join(" ")}\nsqma-sync\n${ul.join(" ")}\nsqma-sync\n`]);
  await batch.close();
});

Deno.test("control loop: a tick that changes both rates writes both changes at once; a failure is its direction's", async () => {
  const tc = fakeTc((line) =>
    line.includes("dev wan ") ? "RTNETLINK answers: Invalid argument" : undefined
  );
  const { clock, loop, shapers } = ewmaCakeLoop(tc, () => 0);
  // Both rates set at start (60 % of the base rates): download made, upload refused.
  await loop.start();
  assertEquals(tc.procs[0].writes, [
    "qdisc change root dev ifb4wan cake bandwidth 60000Kbit\nsqma-sync\n" +
    "qdisc change root dev wan cake bandwidth 12000Kbit\nsqma-sync\n",
  ]);
  clock.advance(0.5);
  const r = await loop.tick();
  // The download rate in force is known (made), the upload one is tried again.
  assertEquals(r.applied.ul, false);
  assertEquals(loop.state.shaperFailures, 2);
  assert(tc.procs[0].writes[1].includes("dev wan "), tc.procs[0].writes[1]);
  await shapers.close?.();
});

Deno.test("control loop: no process spawned per change in 100 ticks once the tc coprocess runs", async () => {
  const tc = fakeTc();
  let bytes = 0;
  const { clock, peers, owd, loop, shapers } = ewmaCakeLoop(tc, () => bytes);
  await loop.start();
  const spawnsAtStart = tc.argvs.length + tc.runs.length;
  let changes = 0;
  for (let i = 0; i < 100; i++) {
    clock.advance(0.5);
    const now = clock.monotonicS();
    // Full load, and a delay spike every tenth tick: the rate goes up and down.
    const spike = i % 10 === 9 ? 40 : 0;
    for (const ip of peers) {
      owd.baseline.set(ip, { up_ewma: 10, down_ewma: 10, last_receive_time_s: now });
      owd.recent.set(ip, { up_ewma: 10 + spike, down_ewma: 10 + spike, last_receive_time_s: now });
    }
    bytes += 10_000_000;
    const r = await loop.tick();
    if (r.applied.dl || r.applied.ul) changes++;
  }
  assert(changes >= 50, `the rates changed in ${changes} of 100 ticks`);
  assertEquals(spawnsAtStart, 1, "one coprocess at start");
  assertEquals(tc.runs.length, 0, "no tc spawned for a change");
  // Coprocesses only as each made its TC_CHANGES_PER_PROCESS changes (tc's memory).
  const made = tc.procs.map((p) => p.lines.filter((l) => l !== "sqma-sync").length);
  assertEquals(tc.argvs.length, made.length);
  assert(made.slice(0, -1).every((n) => n === TC_CHANGES_PER_PROCESS), String(made));
  assert(made.reduce((a, b) => a + b) >= changes, "every change went down a coprocess");
  await shapers.close?.();
});

Deno.test("TcBatch: a fresh coprocess after changesPerProcess changes, not counted as a failure", async () => {
  const tc = fakeTc();
  const clock = new VirtualClock(0);
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, clock, changesPerProcess: 3 });
  const change = (kbit: number) => ["qdisc", "change", "root", "dev", "wan", "tbf", `${kbit}Kbit`];
  for (let i = 1; i <= 7; i++) assertEquals((await batch.run(change(i))).code, 0);
  // The clock never moves: a replacement counted as a failure would wait 1 s the second time
  // and run that change as a spawned tc.
  assertEquals(tc.runs, []);
  assertEquals(tc.procs.map((p) => p.lines.filter((l) => l !== "sqma-sync").length), [3, 3, 1]);
  assertEquals(tc.procs[2].lines[0], "qdisc change root dev wan tbf 7Kbit");
  // The two replaced processes got EOF; the third runs until close().
  await batch.close();
  assertEquals(batch.starts, 3);
});

Deno.test("TcBatch: by default a fresh coprocess after TC_CHANGES_PER_PROCESS (100) changes", async () => {
  // tc 6.1 keeps about 4 kB per change (docs/footprint.md, "Helpers over months"): 100 bound it
  // to 0.4 MB more than a fresh tc.
  const tc = fakeTc();
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, clock: new VirtualClock(0) });
  const change = (kbit: number) => ["qdisc", "change", "root", "dev", "wan", "tbf", `${kbit}Kbit`];
  for (let i = 1; i <= 101; i++) assertEquals((await batch.run(change(i))).code, 0);
  assertEquals(TC_CHANGES_PER_PROCESS, 100);
  assertEquals(tc.procs.map((p) => p.lines.filter((l) => l !== "sqma-sync").length), [100, 1]);
  await batch.close();
});

/** Timers that fire only when the test says so. */
function manualTimers() {
  const pending = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  return {
    pending,
    timers: {
      setTimeout: (fn: () => void, ms: number) => {
        pending.set(next, { fn, ms });
        return next++;
      },
      clearTimeout: (id: unknown) => void pending.delete(id as number),
    },
    /** Fires every pending timer. */
    fireAll: () => {
      const due = [...pending.values()];
      pending.clear();
      for (const t of due) t.fn();
    },
  };
}

Deno.test("TcBatch: a change of an abandoned coprocess that lands late is overridden by a re-apply", async () => {
  // The router's shapers: what each device's last applied change set.
  const rates = new Map<string, string>();
  const apply = (line: string) => {
    const w = line.split(" ");
    rates.set(w[w.indexOf("dev") + 1], w.at(-1)!);
  };
  const tc = fakeTc((line) => void apply(line));
  const runner: CommandRunner = (binary, args) => {
    apply(args.join(" "));
    return tc.runner(binary, args);
  };
  const timers = manualTimers();
  const batch = new TcBatch({
    spawn: tc.spawn,
    runner,
    reapplyTimers: timers.timers,
    timeoutMs: 1000,
  });
  await batch.run(cakeChange("ifb4wan", 50000));
  await batch.run(cakeChange("wan", 10000));
  assertEquals(timers.pending.size, 0, "nothing to re-apply while the coprocess answers");
  // The session drops with the 20000 change delivered but unanswered: it runs as a spawned tc.
  tc.procs[0].die = true;
  assertEquals((await batch.run(cakeChange("wan", 20000))).code, 0);
  assertEquals(tc.runs.length, 1);
  assertEquals([...timers.pending.values()].map((t) => t.ms), [3000]);
  // A newer rate through a fresh coprocess; then the old session's tc makes the 20000 change.
  assertEquals((await batch.run(cakeChange("wan", 30000))).code, 0);
  assertEquals(tc.procs.length, 2);
  apply(tc.procs[0].lines.at(-2)!);
  assertEquals(rates.get("wan"), "20000Kbit", "the stale change landed last");
  timers.fireAll();
  await batch.close();
  assertEquals(rates.get("wan"), "30000Kbit", "the newest rate is in force again");
  assertEquals(rates.get("ifb4wan"), "50000Kbit");
  assertEquals(tc.procs[1].lines.filter((l) => l !== "sqma-sync"), [
    "qdisc change root dev wan cake bandwidth 30000Kbit",
    "qdisc change root dev ifb4wan cake bandwidth 50000Kbit",
    "qdisc change root dev wan cake bandwidth 30000Kbit",
  ]);
  assertEquals(timers.pending.size, 0);
});

Deno.test("TcBatch: close() drops a pending re-apply; targets are object, device and class", async () => {
  const tc = fakeTc();
  const timers = manualTimers();
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, reapplyTimers: timers.timers });
  const htb = (
    classid: string,
    kbit: number,
  ) => ["class", "change", "dev", "wan", "classid", classid, "htb", "rate", `${kbit}Kbit`];
  await batch.run(htb("1:1", 1));
  await batch.run(htb("1:2", 2));
  await batch.run(htb("1:1", 3));
  tc.procs[0].die = true;
  await batch.run(htb("1:2", 4));
  assertEquals(timers.pending.size, 1);
  timers.fireAll();
  await batch.run(htb("1:1", 5)); // queued after the re-apply
  assertEquals(tc.procs[1].lines.filter((l) => l !== "sqma-sync"), [
    "class change dev wan classid 1:1 htb rate 3Kbit",
    "class change dev wan classid 1:2 htb rate 4Kbit",
    "class change dev wan classid 1:1 htb rate 5Kbit",
  ]);
  tc.procs[1].die = true;
  await batch.run(htb("1:1", 6));
  assertEquals(timers.pending.size, 1, "a new abandonment schedules one more");
  await batch.close();
  assertEquals(timers.pending.size, 0, "dropped by close()");
});

Deno.test("TcBatch: close() gives a change that gets no answer the grace, then kills and gives it up without a fallback", async () => {
  const tc = fakeTc();
  const batch = graceBatch(tc);
  const change = ["qdisc", "change", "root", "dev", "wan", "cake", "bandwidth", "1Kbit"];
  await batch.run(change);
  tc.procs[0].hang = true;
  const exitRate = batch.run(change);
  const queued = batch.run(change);
  const started = Date.now();
  await batch.close();
  assert(Date.now() - started < 5000, "close() did not wait for the answer timeout");
  assertEquals((await exitRate).code, 1);
  assertEquals((await queued).code, 1);
  assertEquals(tc.runs, [], "no fallback tc after close() gave up");
  assertEquals(tc.procs.length, 1, "no new coprocess either");
});

Deno.test("TcBatch: a new coprocess's first change may take firstAnswerTimeoutMs (the connection); later ones only timeoutMs", async () => {
  const tc = fakeTc();
  const batch = new TcBatch({
    spawn: (argv) => {
      const p = tc.spawn(argv) as FakeTcProcess;
      p.lateMs = 100;
      return p;
    },
    runner: tc.runner,
    timeoutMs: 20,
    firstAnswerTimeoutMs: 5000,
  });
  const change = ["qdisc", "change", "root", "dev", "wan", "cake", "bandwidth", "1Kbit"];
  assertEquals((await batch.run(change)).code, 0);
  assertEquals(tc.runs.length, 0, "the slow first answer was waited for");
  tc.procs[0].hang = true;
  const started = Date.now();
  await batch.run(change);
  assert(Date.now() - started < 1000, "a later change gets the short wait");
  assertEquals(tc.runs.length, 1);
  await batch.close();
});

Deno.test("TcBatch: a change given up by close() is no reason to query the root qdisc", async () => {
  const tc = fakeTc();
  const batch = graceBatch(tc);
  const { shaper, queries } = recordingCake(batch);
  await shaper.check();
  await shaper.setRate(1000);
  tc.procs[0].hang = true;
  const exitRate = shaper.setRate(2000).then(() => "set", (e) => e);
  await batch.close();
  const e = await exitRate;
  assert(String(e).includes("given up"), String(e));
  // The loop logs a change not tried at DEBUG only (docs/operation.md, "Logging").
  assert(e instanceof ChangeNotTried && e.reason === "stopping", String(e));
  assertEquals(queries.length, 1, "only check()'s query");
});

Deno.test("TcBatch: a change not tried while the router is away rejects as not tried, not as a tc failure", async () => {
  const tc = fakeTc();
  let away = false;
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, deferWhile: () => away });
  const { shaper, queries } = recordingCake(batch);
  await shaper.check();
  away = true;
  const e = await assertRejects(() => shaper.setRate(2000), ChangeNotTried);
  assertEquals(e.reason, "router-away");
  assert(e.message.startsWith("wan: not tried while the router does not answer"), e.message);
  assertEquals(queries.length, 1, "only check()'s query");
  await batch.close();
});

Deno.test("TcBatch: while deferWhile holds nothing is tried, not even the re-apply; resume() makes the last change of each target; stopping() tries the exit rate anyway", async () => {
  const tc = fakeTc();
  const timers = manualTimers();
  let away = false;
  const batch = new TcBatch({
    spawn: tc.spawn,
    runner: tc.runner,
    reapplyTimers: timers.timers,
    timeoutMs: 50,
    deferWhile: () => away,
  });
  await batch.run(cakeChange("wan", 1));
  // The router goes away with a change in flight: its counter session notices first.
  tc.procs[0].hang = true;
  const inFlight = batch.run(cakeChange("wan", 2)).then((r) => r);
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(tc.procs[0].lines.at(-2), "qdisc change root dev wan cake bandwidth 2Kbit");
  away = true;
  assert(givenUp(await inFlight), "no ssh … tc after the session broke");
  for (let i = 0; i < 50; i++) assert(givenUp(await batch.run(cakeChange("ifb4wan", 10 + i))));
  timers.fireAll(); // the re-apply after the abandonment
  await batch.run(cakeChange("ifb4wan", 60));
  assertEquals(tc.runs, [], "no spawned tc");
  assertEquals(tc.procs.length, 1, "no new session");
  batch.resume();
  assertEquals(tc.procs.length, 1, "nothing while it is still away");
  away = false;
  batch.resume();
  await batch.run(cakeChange("wan", 3));
  assertEquals(tc.procs[1].lines.filter((l) => l !== "sqma-sync"), [
    "qdisc change root dev wan cake bandwidth 2Kbit",
    "qdisc change root dev ifb4wan cake bandwidth 60Kbit",
    "qdisc change root dev wan cake bandwidth 3Kbit",
  ]);
  batch.resume(); // nothing owed
  assertEquals(tc.procs[1].lines.length, 6);
  away = true;
  assert(givenUp(await batch.run(cakeChange("wan", 4))));
  batch.stopping();
  assertEquals((await batch.run(cakeChange("wan", 5))).code, 0, "the exit rate is tried");
  await batch.close();
  assertEquals(tc.procs[1].lines.at(-2), "qdisc change root dev wan cake bandwidth 5Kbit");
});

Deno.test("TcBatch: with whileConnecting, resume() starts a session at once and the changes go through whileConnecting until it answers", async () => {
  const tc = fakeTc();
  let away = false;
  let connectMs = 0;
  const via: string[] = [];
  let viaCalls = 0;
  let viaAnswers = true;
  const batch = new TcBatch({
    // A session whose first answer takes `connectMs` (its ssh connecting).
    spawn: (argv) => {
      const p = tc.spawn(argv) as FakeTcProcess;
      p.lateMs = connectMs;
      return p;
    },
    runner: tc.runner,
    timeoutMs: 1000,
    deferWhile: () => away,
    whileConnecting: (changes) => {
      viaCalls++;
      via.push(...changes.map((args) => args.join(" ")));
      return Promise.resolve(
        changes.map(() => viaAnswers ? { code: 0, stdout: "", stderr: "" } : undefined),
      );
    },
  });
  await batch.run(cakeChange("wan", 1));
  assertEquals(via, [], "not while its session answers");
  tc.procs[0].exit(); // the session ends with the router
  await new Promise((r) => setTimeout(r, 10)); // its end seen
  away = true;
  assert(givenUp(await batch.run(cakeChange("wan", 2))));
  assert(givenUp(await batch.run(cakeChange("ifb4wan", 3))));
  away = false;
  connectMs = 200;
  batch.resume();
  assertEquals(tc.procs.length, 2, "its own session started at once");
  const started = Date.now();
  assertEquals((await batch.run(cakeChange("wan", 4))).code, 0);
  assert(Date.now() - started < 150, "made without waiting for the session");
  assertEquals(via, [
    "qdisc change root dev wan cake bandwidth 2Kbit",
    "qdisc change root dev ifb4wan cake bandwidth 3Kbit",
    "qdisc change root dev wan cake bandwidth 4Kbit",
  ]);
  assertEquals(viaCalls, 1, "resume()'s two changes and the one asked with them: together");
  await new Promise((r) => setTimeout(r, 300));
  assertEquals(tc.procs[1].lines, ["sqma-sync"], "its first line: the marker alone");
  tc.procs[1].lateMs = 0;
  // Answered now: the next change goes to it.
  await batch.run(cakeChange("wan", 5));
  assertEquals(via.length, 3);
  assertEquals(viaCalls, 1);
  assertEquals(tc.procs[1].lines.slice(1), [
    "qdisc change root dev wan cake bandwidth 5Kbit",
    "sqma-sync",
  ]);
  // whileConnecting cannot (the counter session not answering): the change waits for the session.
  tc.procs[1].exit();
  await new Promise((r) => setTimeout(r, 10)); // its end seen
  away = true;
  assert(givenUp(await batch.run(cakeChange("wan", 6))));
  away = false;
  viaAnswers = false;
  connectMs = 50;
  batch.resume();
  await batch.run(cakeChange("wan", 7));
  assertEquals(viaCalls, 2, "tried once for the three asked together, which then waited");
  assertEquals(tc.procs[2].lines.filter((l) => l !== "sqma-sync"), [
    "qdisc change root dev wan cake bandwidth 6Kbit",
    "qdisc change root dev ifb4wan cake bandwidth 3Kbit",
    "qdisc change root dev wan cake bandwidth 7Kbit",
  ]);
  await batch.close();
});

/** A runner whose tc hangs until its signal aborts it (a spawned `ssh … tc` to a silent router). */
function hangingRunner() {
  const runs: string[][] = [];
  let aborted = 0;
  const runner: CommandRunner = (binary, args, o) => {
    runs.push([binary, ...args]);
    return new Promise((resolve) => {
      o?.signal?.addEventListener("abort", () => {
        aborted++;
        resolve({ code: 124, stdout: "", stderr: "tc: given up" });
      }, { once: true });
    });
  };
  return { runner, runs, aborted: () => aborted };
}

Deno.test("TcBatch: stopping() gives up a spawned tc that hangs after the grace, with no query of the root qdisc, and tries the exit rate", async () => {
  const tc = fakeTc();
  const hanging = hangingRunner();
  const batch = new TcBatch({
    spawn: tc.spawn,
    runner: hanging.runner,
    timeoutMs: 20,
    closeGraceMs: 50,
  });
  const { shaper, queries } = recordingCake(batch);
  await shaper.check();
  await shaper.setRate(1000);
  tc.procs[0].hang = true;
  const hung = shaper.setRate(2000).then(() => "set", (e) => String(e));
  await new Promise((r) => setTimeout(r, 100)); // the session timed out: the spawned tc hangs
  assertEquals(hanging.runs.length, 1);
  const started = Date.now();
  batch.stopping();
  assert((await hung).includes("given up"), await hung);
  assert(Date.now() - started < 1000, "given up after the grace, not at a timeout");
  assertEquals(hanging.aborted(), 1, "its process killed");
  assertEquals(queries.length, 1, "only check()'s query");
  // The exit rate: a fresh coprocess.
  tc.procs.at(-1)!.hang = false;
  await shaper.setRate(3000);
  assertEquals(
    tc.procs.at(-1)!.lines.at(-2),
    "qdisc change root handle 8001: dev wan cake bandwidth 3000Kbit",
  );
  await batch.close();
});

Deno.test("TcBatch: close() kills a spawned tc that hangs after the grace instead of waiting for its timeout", async () => {
  const tc = fakeTc();
  tc.setBroken(true); // no coprocess: every change is spawned
  const hanging = hangingRunner();
  const batch = new TcBatch({ spawn: tc.spawn, runner: hanging.runner, closeGraceMs: 50 });
  const exitRate = batch.run([
    "qdisc",
    "change",
    "root",
    "dev",
    "wan",
    "cake",
    "bandwidth",
    "1Kbit",
  ]);
  const started = Date.now();
  await batch.close();
  assert(Date.now() - started < 1000, `close() took ${Date.now() - started} ms`);
  assert(givenUp(await exitRate));
  assertEquals(hanging.aborted(), 1);
});

Deno.test("TcBatch: a change leaves no listener on the long-lived give-up signal (months of changes)", async () => {
  // Counts the abort listeners that stay on signals: each change waits for a give-up, and the
  // batch's signal lives as long as the daemon, so one left per change would grow without end.
  await countingAbortListeners(async (count) => {
    const tc = fakeTc();
    const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner });
    try {
      for (let i = 0; i < 200; i++) {
        assertEquals((await batch.run(cakeChange("wan", i))).code, 0);
      }
      assert(count.live <= 2, `${count.live} abort listeners left after 200 changes`);
    } finally {
      await batch.close();
    }
  });
});

Deno.test("TcBatch: a query goes to the session that answered, its stdout line the answer; none is started for one", async () => {
  const root = '[{"kind":"pfifo","handle":"8002:","root":true}]';
  const tc = fakeTc(
    (line) => line.startsWith("qdisc show dev nope") ? 'Cannot find device "nope"' : undefined,
    (line) => line.startsWith("qdisc show dev") ? root : undefined,
  );
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner });
  const show = ["qdisc", "show", "dev", "wan"];
  assertEquals(await batch.query(show), undefined, "no session yet: not asked");
  assertEquals(tc.argvs.length, 0, "none started for a query");
  assertEquals((await batch.run(["qdisc", "change", "root", "dev", "wan", "cake"])).code, 0);
  assertEquals((await batch.query(show))?.stdout, root);
  // Its answer may come after the marker's report (another stream): it is waited for.
  tc.procs[0].outLate = true;
  const [a, b] = await Promise.all([batch.query(show), batch.query(show)]);
  assertEquals([a?.stdout, b?.stdout], [root, root]);
  assertEquals(tc.procs[0].writes.at(-1), "qdisc show dev wan\nsqma-sync\n".repeat(2), "one write");
  // tc's failure: not answered here (the caller's own tc says it afresh).
  assertEquals(await batch.query(["qdisc", "show", "dev", "nope"]), undefined);
  assertEquals(tc.runs, [], "nothing spawned");
  assertEquals(tc.procs.length, 1);
  await batch.close();
});

Deno.test("TcBatch: a tc that prints no answer to a query is not asked one again", async () => {
  const tc = fakeTc();
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, timeoutMs: 20 });
  await batch.run(["qdisc", "change", "root", "dev", "wan", "cake"]);
  assertEquals(await batch.query(["qdisc", "show", "dev", "wan"]), undefined);
  const lines = tc.procs[0].lines.length;
  assertEquals(await batch.query(["qdisc", "show", "dev", "wan"]), undefined);
  assertEquals(tc.procs[0].lines.length, lines, "not written");
  assertEquals((await batch.run(["qdisc", "change", "root", "dev", "wan", "cake"])).code, 0);
  await batch.close();
});

const HTB_ROOT = '[{"kind":"htb","handle":"1:","root":true}]';
const HTB_CLASS = "class htb 1:1 root rate 30Mbit ceil 30Mbit";

/** A fake tc whose HTB root always answers a query and whose class 1:1 answers while present. */
function htbClassTc(): { tc: ReturnType<typeof fakeTc>; htb: { present: boolean } } {
  const htb = { present: true };
  const tc = fakeTc(
    () => undefined,
    (line) =>
      line.startsWith("qdisc show")
        ? HTB_ROOT
        : line.startsWith("class show") && htb.present
        ? HTB_CLASS
        : undefined,
  );
  return { tc, htb };
}

Deno.test("TcBatch: a query that prints nothing from a tc that answers queries replaces the session; queries go on in the next, unless that query is silent there too", async () => {
  const { tc, htb } = htbClassTc();
  const { logger, lines } = recordingLogger();
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, timeoutMs: 20, logger });
  const change = ["class", "change", "dev", "wan", "classid", "1:1", "htb", "rate", "30000kbit"];
  const show = ["class", "show", "dev", "wan", "classid", "1:1"];
  await batch.run(change);
  assertEquals((await batch.query(["qdisc", "show", "dev", "wan"]))?.stdout, HTB_ROOT);
  assertEquals((await batch.query(show))?.stdout, HTB_CLASS);

  htb.present = false; // deleted under its root: tc prints nothing for it
  assertEquals(await batch.query(show), undefined);
  assertEquals(lines.map((l) => l.split(":")[0]), ["INFO tc -batch printed no answer to a query"]);
  assertEquals(await batch.query(show), undefined, "the replaced session is asked nothing");
  assertEquals(tc.procs[0].lines.at(-2), show.join(" "));
  await batch.run(change);
  assertEquals(tc.procs.length, 2, "the next change starts a fresh session");

  htb.present = true; // back
  assertEquals((await batch.query(show))?.stdout, HTB_CLASS, "asked in the fresh session");
  htb.present = false; // deleted again later in the run: recovered from again
  assertEquals(await batch.query(show), undefined);
  await batch.run(change);
  assertEquals(tc.procs.length, 3);
  // Silent in this fresh session too, with no answer between: this tc's, queries end here.
  assertEquals(await batch.query(show), undefined);
  await batch.run(change);
  assertEquals(tc.procs.length, 3, "not replaced again");
  const written = tc.procs[2].lines.length;
  assertEquals(await batch.query(["qdisc", "show", "dev", "wan"]), undefined);
  assertEquals(tc.procs[2].lines.length, written, "no query asked here any more");
  assertEquals(lines.filter((l) => l.startsWith("INFO ")).length, 2, lines.join("\n"));
  assertEquals(tc.runs, [], "nothing spawned");
  await batch.close();
});

Deno.test("TcBatch: a query with isAnswer asked just before one that always answers: its silence is known from the next one's line, with no wait and the session kept", async () => {
  const { tc, htb } = htbClassTc();
  const { logger, lines } = recordingLogger();
  // A wait for a silent query's line would exceed the test's time (a minute).
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner, timeoutMs: 60_000, logger });
  const show = ["class", "show", "dev", "wan", "classid", "1:1"];
  const isAnswer = (line: string) => !line.startsWith('[{"kind":');
  const both = () =>
    Promise.all([batch.query(show, { isAnswer }), batch.query(["qdisc", "show", "dev", "wan"])]);
  await batch.run(["class", "change", "dev", "wan", "classid", "1:1", "htb", "rate", "1kbit"]);
  assertEquals((await both()).map((r) => r?.stdout), [HTB_CLASS, HTB_ROOT]);
  htb.present = false; // deleted under its root
  assertEquals((await both()).map((r) => r?.stdout), [undefined, HTB_ROOT]);
  assertEquals(
    (await both()).map((r) => r?.stdout),
    [undefined, HTB_ROOT],
    "asked again, same session",
  );
  htb.present = true; // back
  assertEquals((await both()).map((r) => r?.stdout), [HTB_CLASS, HTB_ROOT]);
  assertEquals(tc.procs.length, 1, "the session kept");
  assertEquals(lines, []);
  assertEquals(tc.runs, [], "nothing spawned");
  await batch.close();
});

Deno.test("TcShaper with a batch: why a change fails is asked in the session (no tc of its own); a new root of its kind adopted", async () => {
  let root = '[{"kind":"pfifo","handle":"8002:","root":true}]';
  const tc = fakeTc(
    (line) =>
      line.includes("handle 8001:") ? "Error: NLM_F_REPLACE needed to override." : undefined,
    (line) => line.startsWith("qdisc show dev wan") ? root : undefined,
  );
  const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner });
  const { shaper, queries } = recordingCake(batch);
  await shaper.check();
  await shaper.setRate(1000).catch(() => {});
  const failed = await shaper.setRate(2000).then(() => "set", (e) => String(e));
  assert(failed.includes("replaced by pfifo"), failed);
  root = '[{"kind":"cake","handle":"8003:","root":true,"options":{"bandwidth":125000}}]';
  await shaper.setRate(3000);
  assertEquals(
    tc.procs[0].lines.at(-2),
    "qdisc change root handle 8003: dev wan cake bandwidth 3000Kbit",
  );
  assertEquals(queries.length, 1, "only check()'s query ran as a tc of its own");
  assertEquals(tc.runs, []);
  await batch.close();
});

Deno.test("TcBatch: a change through the coprocess adds no abort listener (one per give-up signal)", async () => {
  // Each change waited for a give-up with a listener of its own and raced every answer line
  // against it; the give-up signal's one listener now ends the wait (docs/footprint.md,
  // "Twenty-second session").
  await countingAbortListeners(async (count) => {
    const tc = fakeTc();
    const batch = new TcBatch({ spawn: tc.spawn, runner: tc.runner });
    try {
      const before = count.added;
      for (let i = 0; i < 20; i++) {
        assertEquals((await batch.run(cakeChange("wan", i))).code, 0);
      }
      assertEquals(count.added - before, 0, "abort listeners added by 20 changes");
      assertEquals(tc.runs, [], "all through the coprocess");
    } finally {
      await batch.close();
    }
  });
});

Deno.test("TcBatch: with whileConnecting, the coprocess replacing one that made changesPerProcess changes is started at once, the changes going through whileConnecting until it answers", async () => {
  const tc = fakeTc();
  const via: string[] = [];
  let connecting = false;
  const { logger, debugged } = debugWatcher();
  const batch = connectingBatch(tc, () => connecting, {
    whileConnecting: (changes) => {
      via.push(...changes.map((args) => args.join(" ")));
      return Promise.resolve(changes.map(() => ({ code: 0, stdout: "", stderr: "" })));
    },
    logger,
  });
  const change = (kbit: number) => ["qdisc", "change", "root", "dev", "wan", "tbf", `${kbit}Kbit`];
  await batch.run(change(1));
  connecting = true; // the next session's ssh connecting
  await batch.run(change(2));
  assertEquals(tc.procs.length, 2, "its replacement started with the last change");
  await batch.run(change(3));
  assertEquals(via, ["qdisc change root dev wan tbf 3Kbit"], "not waiting for its connection");
  const answered = debugged("the new tc -batch session answers");
  tc.procs[1].release(); // it answers its marker
  await answered;
  await batch.run(change(4));
  assertEquals(tc.procs[1].lines, [
    "sqma-sync",
    "qdisc change root dev wan tbf 4Kbit",
    "sqma-sync",
  ]);
  assertEquals(via.length, 1);
  assertEquals(tc.runs, []);
  await batch.close();
});

Deno.test("TcBatch: while the replacing coprocess connects, changes asked together go to whileConnecting in one call, each with its own verdict", async () => {
  const tc = fakeTc();
  const calls: string[][] = [];
  let connecting = false;
  const batch = connectingBatch(tc, () => connecting, {
    // The counter session: one write, one round trip, an answer per change.
    whileConnecting: (changes) => {
      calls.push(changes.map((args) => args.join(" ")));
      // One it does not make waits for the session: which then connects.
      if (changes.some((args) => args.includes("later"))) tc.procs[1].release();
      return Promise.resolve(
        changes.map((args) =>
          args.includes("nosuch")
            ? { code: 1, stdout: "", stderr: 'Cannot find device "nosuch"' }
            : args.includes("later")
            ? undefined // not made there: waits for the session
            : { code: 0, stdout: "", stderr: "" }
        ),
      );
    },
  });
  await batch.run(cakeChange("wan", 1));
  connecting = true; // the next session's ssh connecting
  await batch.run(cakeChange("wan", 2));
  assertEquals(tc.procs.length, 2, "its replacement started with the last change");
  // A tick's pair, asked together.
  const [dl, ul] = await Promise.all([
    batch.run(cakeChange("ifb4wan", 3)),
    batch.run(cakeChange("nosuch", 3)),
  ]);
  assertEquals(calls, [[
    "qdisc change root dev ifb4wan cake bandwidth 3Kbit",
    "qdisc change root dev nosuch cake bandwidth 3Kbit",
  ]], "one call (one round trip) for both");
  assertEquals(dl, { code: 0, stdout: "", stderr: "" });
  assertEquals(ul, { code: 1, stdout: "", stderr: 'Cannot find device "nosuch"' });
  // One it did not make waits for the session; the other's verdict stays its own.
  const [a, b] = await Promise.all([
    batch.run(cakeChange("ifb4wan", 4)),
    batch.run(cakeChange("later", 4)),
  ]);
  assertEquals(calls.length, 2);
  assertEquals([a.code, b.code], [0, 0]);
  assertEquals(tc.procs[1].lines, [
    "sqma-sync",
    "qdisc change root dev later cake bandwidth 4Kbit",
    "sqma-sync",
  ]);
  assertEquals(tc.runs, []);
  await batch.close();
});
