import { assert, assertEquals, assertRejects, assertStringIncludes } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import type { TableSettings } from "../config/settings_table.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { ChangeNotTried, type CounterReading, type MeasurementService } from "../control/ports.ts";
import { VirtualClock } from "../util/clock.ts";
import { MemoryShaper } from "../apply/memory.ts";
import { ShaperCheckError } from "../apply/shaper.ts";
import { FileStatsSink } from "../report/stats.ts";
import { MemoryFileStore } from "../report/store.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { lockedInterfaces, runDaemon } from "./mod.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, formatRecord, resetLogging, stageLogger } from "../log/mod.ts";
import { needs, pollUntil } from "../util/netns_testing.ts";
import { acquireInstanceLock, InstanceLockedError, lockPath } from "./instance_lock.ts";
import {
  ext4Error,
  ext4SkipReason,
  fillUp,
  tmpfsSkipReason,
  withExt4,
  withTmpfs,
} from "../util/tmpfs_testing.ts";
import { parseStatsCsv } from "../report/stats_reader.ts";

const PEERS = ["a", "b", "c", "d", "e"];

/** A measurement service that keeps all peers fresh with zero deltas while started. */
class FakeMeasurement implements MeasurementService {
  readonly owd = createOwdState(PEERS);
  readonly reselect = { requestReselect: () => {} };
  events: string[] = [];
  running = false;
  constructor(readonly clock: VirtualClock) {}
  start(): Promise<void> {
    this.events.push(`start@${this.clock.monotonicS()}`);
    this.running = true;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.events.push(`stop@${this.clock.monotonicS()}`);
    this.running = false;
    return Promise.resolve();
  }
  refresh(): void {
    if (!this.running) return;
    const t = this.clock.monotonicS();
    for (const ip of PEERS) {
      this.owd.baseline.set(ip, { up_ewma: 5, down_ewma: 5, last_receive_time_s: t });
      this.owd.recent.set(ip, { up_ewma: 5, down_ewma: 5, last_receive_time_s: t });
    }
  }
}

function setup(overrides: Partial<TableSettings> = {}, options: { stopAfterS?: number } = {}) {
  const settings = settingsWithDefaults({
    dl_if: "ifb4wan",
    ul_if: "wan",
    base_dl_rate: 100000,
    base_ul_rate: 20000,
    ...overrides,
  });
  const clock = new VirtualClock(0);
  const measurement = new FakeMeasurement(clock);
  const dl = new MemoryShaper("ifb4wan", { initialKbit: 90000 });
  const ul = new MemoryShaper("wan", { initialKbit: 18000 });
  let counterValue: CounterReading | null = { dlBytes: 0, ulBytes: 0 };
  const counters = {
    reads: 0,
    closed: false,
    read() {
      this.reads++;
      return Promise.resolve(counterValue);
    },
    close() {
      this.closed = true;
      return Promise.resolve();
    },
  };
  const ac = new AbortController();
  const sleeps: number[] = [];
  const store = new MemoryFileStore();
  const stats = new FileStatsSink(settings, { store, flushEveryRows: 1000 });
  const deps = {
    measurement,
    clock,
    random: () => 0.5,
    shapers: { dl, ul },
    counters,
    stats,
    shutdown: ac.signal,
    sleep: (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms / 1000);
      measurement.refresh();
      if (options.stopAfterS !== undefined && clock.monotonicS() >= options.stopAfterS) ac.abort();
      return Promise.resolve();
    },
  };
  return {
    settings,
    clock,
    measurement,
    dl,
    ul,
    counters,
    setCounters: (v: CounterReading | null) => counterValue = v,
    ac,
    sleeps,
    store,
    deps,
  };
}

Deno.test("daemon: start sequence (min, settle, measure, control at 60 %) and exit at base", async () => {
  const t = setup({}, { stopAfterS: 10 });
  const code = await runDaemon(t.settings, t.deps);
  assertEquals(code, ExitCode.OK);
  // Minimum first, then round(0.6 × base), finally the exit rate (base).
  assertEquals(t.dl.history, [20000, 60000, 100000]);
  assertEquals(t.ul.history, [4000, 12000, 20000]);
  assertEquals(t.sleeps[0], 2000, "2 s settle at minimum rate before measuring");
  assertEquals(t.measurement.events[0], "start@2");
  assert(t.measurement.events[1].startsWith("stop@"), "measurement stopped on shutdown");
  assert(!t.measurement.running);
  assert(t.counters.closed);
  const rows = t.store.files.get(t.settings.stats_file)!.trim().split("\n");
  assert(rows.length > 10, "stats rows were written and flushed at shutdown");
});

Deno.test("daemon: the download's link kind, read once at start, decides whether it carries the probes", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const asked: string[] = [];
    const veth = setup({}, { stopAfterS: 3 });
    const linkKind = (ifname: string) => {
      asked.push(ifname);
      return Promise.resolve("veth");
    };
    assertEquals(await runDaemon(veth.settings, { ...veth.deps, linkKind }), ExitCode.OK);
    assertEquals(
      asked,
      ["ifb4wan", "wan"],
      "each interface asked once, the upload for swapped ones",
    );
    const byName = setup({}, { stopAfterS: 3 });
    assertEquals(await runDaemon(byName.settings, byName.deps), ExitCode.OK);
    const lines = records.map(formatRecord).filter((l) => l.includes("shaper queues: "));
    assertEquals(lines.length, 2, lines.join(""));
    assert(lines[0].includes("not carrying the daemon's probes (not an IFB by its link kind)"));
    assert(lines[1].includes("carrying the daemon's probes (an IFB by its name)"), lines[1]);
  } finally {
    resetLogging();
  }
});

Deno.test("daemon: names the Lua ratecontroller it loaded at INFO, next to the shaper queues line; a built-in one adds no line", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const lua = setup({ rate_controller: "/etc/sqm-autorate/mine.lua" }, { stopAfterS: 3 });
    const controller = {
      name: "mine",
      script: "/etc/sqm-autorate/mine.lua",
      decide: () => ({ next_dl_rate: 60000, next_ul_rate: 12000 }),
    };
    assertEquals(await runDaemon(lua.settings, { ...lua.deps, controller }), ExitCode.OK);
    const builtIn = setup({}, { stopAfterS: 3 });
    assertEquals(await runDaemon(builtIn.settings, builtIn.deps), ExitCode.OK);
    const lines = records.map(formatRecord).map((l) => l.replace(/^\[INFO - [^\]]*\]: /, ""))
      .filter((l) => l.startsWith("loaded ") || l.startsWith("shaper queues"));
    assertEquals(lines.map((l) => l.split(":")[0]), [
      "shaper queues",
      'loaded Lua ratecontroller /etc/sqm-autorate/mine.lua ("mine")\n',
      "shaper queues",
    ]);
  } finally {
    resetLogging();
  }
});

Deno.test("daemon: exit_rate min and leave", async () => {
  const min = setup({ exit_rate: "min" }, { stopAfterS: 5 });
  assertEquals(await runDaemon(min.settings, min.deps), ExitCode.OK);
  assertEquals(min.dl.history.at(-1), 20000);
  assertEquals(min.ul.history.at(-1), 4000);
  const leave = setup({ exit_rate: "leave" }, { stopAfterS: 5 });
  assertEquals(await runDaemon(leave.settings, leave.deps), ExitCode.OK);
  assertEquals(leave.dl.history, [20000, 60000]);
});

Deno.test("daemon: missing counters at start are retried 12 × 5 s, then a clear failure", async () => {
  const t = setup();
  t.setCounters(null);
  const code = await runDaemon(t.settings, t.deps);
  assertEquals(code, ExitCode.UNAVAILABLE);
  assertEquals(t.counters.reads, 12);
  assertEquals(t.sleeps, Array(11).fill(5000));
  assertEquals(t.dl.calls, 0, "the shaper is not touched");
  assertEquals(t.measurement.events, []);
});

Deno.test("daemon: interfaces that appear during the retries are used", async () => {
  const t = setup({}, { stopAfterS: 30 });
  t.dl.present = false;
  let n = 0;
  const sleep = t.deps.sleep;
  t.deps.sleep = (ms: number) => {
    if (++n === 3) t.dl.present = true;
    return sleep(ms);
  };
  assertEquals(await runDaemon(t.settings, t.deps), ExitCode.OK);
  assertEquals(t.sleeps.slice(0, 3), [5000, 5000, 5000]);
  assertEquals(t.dl.history[0], 20000);
});

Deno.test("daemon: missing interfaces: one WARN naming both, repeats at DEBUG, then FATAL", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const t = setup();
    t.dl.present = false;
    t.ul.present = false;
    assertEquals(await runDaemon(t.settings, t.deps), ExitCode.UNAVAILABLE);
    assertEquals(t.sleeps, Array(11).fill(5000));
    const text = records.map(formatRecord).join("");
    const waits = records.filter((r) => r.rawMessage.startsWith("waiting for interfaces"));
    assertEquals(waits.length, 1, text);
    assert(/ifb4wan does not exist[^;]*; .*wan does not exist/.test(text), text);
    const fatal = records.filter((r) => r.level === "fatal");
    assertEquals(fatal.length, 1, text);
    // The owner's setting is named, and where to find the right name.
    const said = formatRecord(fatal[0]);
    assertStringIncludes(said, "ifb4wan does not exist (setting download_interface)");
    assertStringIncludes(said, "wan does not exist (setting upload_interface)");
    assertStringIncludes(said, "`sqm-autorate check-config` names the interfaces here");
  } finally {
    resetLogging();
  }
});

Deno.test("daemon: a missing interface on a router points at the router, not check-config", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const t = setup({ remote: "root@192.168.1.1" });
    t.ul.present = false;
    assertEquals(await runDaemon(t.settings, t.deps), ExitCode.UNAVAILABLE);
    const fatal = records.filter((r) => r.level === "fatal").map(formatRecord).join("");
    assertStringIncludes(fatal, "(setting upload_interface); correct the setting to the router's");
    assert(!fatal.includes("check-config"), fatal);
  } finally {
    resetLogging();
  }
});

Deno.test("daemon: a wrong qdisc kind fails at once", async () => {
  const t = setup();
  t.ul.check = () =>
    Promise.reject(
      new ShaperCheckError("wrong-kind", "the root qdisc of wan is fq_codel, not cake"),
    );
  assertEquals(await runDaemon(t.settings, t.deps), ExitCode.UNAVAILABLE);
  assertEquals(t.sleeps, []);
});

Deno.test("daemon: a Lua controller without the engine is a configuration error", async () => {
  const t = setup({ rate_controller: "/etc/sqm/x.lua" });
  assertEquals(await runDaemon(t.settings, t.deps), ExitCode.CONFIG);
  assertEquals(t.dl.calls, 0);
});

Deno.test("daemon: shutdown during the settle sleep still sets the exit rate and returns", async () => {
  const t = setup({}, { stopAfterS: 1 });
  assertEquals(await runDaemon(t.settings, t.deps), ExitCode.OK);
  assertEquals(t.dl.history, [20000, 100000]);
  assertEquals(t.measurement.events, []);
});

Deno.test("daemon: real timers and a real abort resolve promptly", async () => {
  const t = setup({ min_change_interval: 0.05, tick_interval: 0.05 });
  const deps = { ...t.deps, sleep: undefined, clock: undefined };
  t.measurement.refresh = () => {};
  const started = performance.now();
  setTimeout(() => t.ac.abort(), 300);
  const code = await runDaemon(t.settings, {
    ...deps,
    timing: { settleS: 0.05, baselineWaitS: 0.1 },
  });
  assertEquals(code, ExitCode.OK);
  assert(performance.now() - started < 1000, "resolved within 1 s of the signal");
  assertEquals(t.dl.history.at(-1), 100000);
});

/**
 * Runs a daemon for `stopAfterS` virtual seconds with its statistics files (and `stateDir`, when
 * given) in `dir`, on a load that keeps the rates moving. `faults` maps a virtual time to an action
 * on the file system, run after the rows so far have landed (virtual time runs ahead of the real
 * writes). Returns the log lines and the virtual times at which rates were applied.
 */
async function runOnFileSystem(
  dir: string,
  options: { stopAfterS: number; stateDir?: string; faults: [number, () => Promise<void>][] },
) {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const t = setup({ stats_file: `${dir}/s.csv`, speedhist_file: `${dir}/h.csv` }, {
      stopAfterS: options.stopAfterS,
    });
    const stats = new FileStatsSink(t.settings, { logger: stageLogger("report") });
    const changesAt: number[] = [];
    let bytes = 0;
    let seen = 0;
    const sleep = t.deps.sleep;
    const deps = {
      ...t.deps,
      stats,
      stateDir: options.stateDir,
      sleep: async (ms: number) => {
        const before = t.clock.monotonicS();
        for (const [at, fault] of options.faults) {
          if (before < at && before + ms / 1000 >= at) await stats.flush().then(fault);
        }
        // 80 Mbit/s both ways, idle every other 5 s: the rates keep moving.
        if (Math.floor(before / 5) % 2 === 0) bytes += ms * 10_000;
        t.setCounters({ dlBytes: bytes, ulBytes: bytes });
        // Rates applied since the previous sleep (the tick runs between two sleeps).
        if (t.dl.history.length > seen) changesAt.push(before);
        seen = t.dl.history.length;
        await sleep(ms);
      },
    };
    const code = await runDaemon(t.settings, deps);
    return { code, t, changesAt, lines: records.map(formatRecord) };
  } finally {
    resetLogging();
  }
}

/** The rows of the stats file in `dir` (it must end in a whole row). */
async function statsRows(dir: string) {
  const text = await Deno.readTextFile(`${dir}/s.csv`);
  assert(text.endsWith("\n"));
  return parseStatsCsv(text, "s.csv").rows;
}

Deno.test({
  ...needs(
    "daemon: stats on a tmpfs that fills up mid-run: control goes on, one ERROR, resumes",
    tmpfsSkipReason(),
  ),
  fn: () =>
    withTmpfs(64, async (dir) => {
      const { code, changesAt, lines } = await runOnFileSystem(dir, {
        stopAfterS: 60,
        faults: [[10, () => fillUp(dir)], [40, () => Deno.remove(`${dir}/filler`)]],
      });
      assertEquals(code, ExitCode.OK);
      assert(changesAt.some((s) => s > 11 && s < 39), `rates applied while full: ${changesAt}`);
      const errors = lines.filter((l) => l.includes("cannot write") && l.includes("/s.csv"));
      assertEquals(errors.length, 1, errors.join(""));
      assertEquals(lines.filter((l) => l.includes("writing ") && l.includes(" again")).length, 1);
      const rows = await statsRows(dir);
      assert(rows.length > 20, `rows before and after the fault (${rows.length})`);
    }),
});

Deno.test({
  ...needs(
    "daemon: state and stats on an ext4 the kernel turns read-only mid-run: control and exit go on",
    await ext4SkipReason(),
  ),
  fn: () =>
    withExt4(1024, async (dir) => {
      const { code, t, changesAt, lines } = await runOnFileSystem(dir, {
        stopAfterS: 30,
        stateDir: `${dir}/state`,
        faults: [[10, () => ext4Error(dir)]],
      });
      assertEquals(code, ExitCode.OK);
      assert(changesAt.some((s) => s > 11), `rates applied after the fault: ${changesAt}`);
      assertEquals(t.dl.history.at(-1), 100000, "the exit rate is set");
      const errors = lines.filter((l) => l.includes("cannot write") && l.includes("/s.csv"));
      assertEquals(errors.length, 1, errors.join(""));
      const rows = await statsRows(dir);
      assert(rows.length > 5, `the rows before the fault are kept (${rows.length})`);
      for (const ifname of ["ifb4wan", "wan"]) {
        const f = await Deno.open(`${dir}/state/${ifname}.lock`, { read: true });
        try {
          assert(await f.tryLock(true), `the lock of ${ifname} is released`);
        } finally {
          f.close();
        }
      }
    }),
});

Deno.test("daemon: a lock file removed while running is made and locked again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-relock-" });
  const state = `${dir}/state`;
  try {
    let refused: InstanceLockedError | undefined;
    const { code, lines } = await runOnFileSystem(dir, {
      stopAfterS: 80,
      stateDir: state,
      faults: [
        // `rm -rf` of state_dir (where plots and non-default statistics files go too).
        [10, () => Deno.remove(state, { recursive: true })],
        [70, async () => {
          // A second daemon on the same interface, once the look at the locks (after every
          // tick) has had its real time.
          const made = () => Deno.stat(lockPath(state, "wan")).then(() => true, () => false);
          await pollUntil(made, (e) => e, {
            ms: 5000,
            what: "the lock file made again",
          });
          refused = await assertRejects(
            () => acquireInstanceLock(state, { interfaces: ["wan"], pid: 4242 }),
            InstanceLockedError,
          );
        }],
      ],
    });
    assertEquals(code, ExitCode.OK);
    assertEquals(refused?.holderPid, Deno.pid);
    const relocked = lines.filter((l) => l.includes("was removed or replaced"));
    assertEquals(relocked.length, 2, lines.join("")); // one per interface, once
    assert(relocked.every((l) => l.startsWith("[WARN")), relocked.join(""));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("daemon: an exit rate that gets no answer is given up after the budget", async () => {
  const t = setup({}, { stopAfterS: 5 });
  const setRate = t.dl.setRate.bind(t.dl);
  t.dl.setRate = (kbit) => t.ac.signal.aborted ? new Promise(() => {}) : setRate(kbit);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = await Promise.race([
    runDaemon(t.settings, { ...t.deps, timing: { exitRateBudgetS: 0.05 } }),
    new Promise((r) => timer = setTimeout(() => r("hung"), 3000)),
  ]);
  clearTimeout(timer);
  assertEquals(code, ExitCode.OK);
  assertEquals(t.measurement.events.at(-1)?.startsWith("stop@"), true, "the pingers stopped");
  assertEquals(t.counters.closed, true);
});

Deno.test("daemon: an exit rate not tried (the router away) is one WARN, not an ERROR per shaper", async () => {
  const records: LogRecord[] = [];
  configureLogging("INFO", { sink: (r) => void records.push(r) });
  try {
    const t = setup({}, { stopAfterS: 5 });
    const setRate = t.dl.setRate.bind(t.dl);
    t.dl.setRate = (kbit) =>
      t.ac.signal.aborted
        ? Promise.reject(
          new ChangeNotTried("stopping", "ifb4wan: given up: the daemon is stopping"),
        )
        : setRate(kbit);
    assertEquals(await runDaemon(t.settings, t.deps), ExitCode.OK);
    const text = records.map(formatRecord).join("");
    const loud = records.filter((r) => r.level === "error" || r.level === "warning")
      .map(formatRecord);
    assertEquals(loud.length, 1, text);
    assert(loud[0].includes("exit rate not set (download); exiting without it"), text);
    assertEquals(t.ul.history.at(-1), 20000, "the upload exit rate made");
  } finally {
    resetLogging();
  }
});

Deno.test("daemon: in remote mode the interfaces are locked with their router: a daemon for another router whose interfaces have the same names starts, one for the same router is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-rlock-" });
  try {
    const first = setup({ remote: "root@192.0.2.1" });
    const held = await acquireInstanceLock(dir, { interfaces: lockedInterfaces(first.settings) });
    try {
      const other = setup({ remote: "root@192.0.2.2" }, { stopAfterS: 5 });
      assertEquals(await runDaemon(other.settings, { ...other.deps, stateDir: dir }), ExitCode.OK);
      const same = setup({ remote: "root@192.0.2.1" }, { stopAfterS: 5 });
      assertEquals(
        await runDaemon(same.settings, { ...same.deps, stateDir: dir }),
        ExitCode.LOCKED,
      );
      const local = setup({}, { stopAfterS: 5 });
      assertEquals(await runDaemon(local.settings, { ...local.deps, stateDir: dir }), ExitCode.OK);
    } finally {
      await held.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("daemon: a tick under way when the shutdown signal comes makes no change, the exit rate follows", async () => {
  const t = setup({}, {});
  let reads = 0;
  const read = t.counters.read.bind(t.counters);
  // The signal comes during a tick's counter reading: the daemon's sleep between ticks may block
  // its thread, so a SIGTERM that came then is seen there (a router away held this change 20 s).
  t.counters.read = () => {
    if (++reads === 20) t.ac.abort();
    return read();
  };
  const code = await runDaemon(t.settings, {
    ...t.deps,
    adjusters: [{
      name: "moves once stopping",
      adjust: () => t.ac.signal.aborted ? { next_dl_rate: 77000, next_ul_rate: 17000 } : {},
    }],
  });
  assertEquals(code, ExitCode.OK);
  assert(reads >= 20, `the signal came in a tick (${reads} readings)`);
  assertEquals(t.dl.history.at(-1), 100000, "the exit rate");
  assertEquals(t.ul.history.at(-1), 20000, "the exit rate");
  assert(!t.dl.history.includes(77000), `no change after the signal: ${t.dl.history}`);
  assert(!t.ul.history.includes(17000), `no change after the signal: ${t.ul.history}`);
});
