import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { RotatingCsvWriter } from "./csv_writer.ts";
import { denoFileStore, MemoryFileStore } from "./store.ts";
import {
  createStatsSink,
  FileStatsSink,
  formatF,
  formatSpeedHistoryRow,
  formatStatsRow,
  SPEED_HISTORY_HEADER,
  STATS_HEADER,
  statsRowsPerFlush,
} from "./stats.ts";
import { wallMsToSecNs } from "../util/clock.ts";
import type { Logger } from "../log/logger.ts";

/** A logger keeping each line with its `{name}` placeholders filled in. */
function recorder(): { logger: Logger; lines: { level: string; text: string }[] } {
  const lines: { level: string; text: string }[] = [];
  const at = (level: string) => (message: string, props: Record<string, unknown> = {}) =>
    lines.push({ level, text: message.replace(/\{(\w+)\}/g, (_, k) => String(props[k])) });
  const logger = { info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
  return { logger: logger as unknown as Logger, lines };
}

Deno.test("stats row: Lua %d/%f text of the docs/algorithm.md §9 example", () => {
  const row = formatStatsRow({
    times: 1700000000,
    timens: 123456789,
    rxload: 0.9,
    txload: 0.6,
    deltadelaydown: 2.5,
    deltadelayup: 18,
    dlrate: 65203,
    uprate: 6480,
  });
  assertEquals(row, "1700000000,123456789,0.900000,0.600000,2.500000,18.000000,65203,6480");
});

Deno.test("formatF: C %f including glibc's half-to-even on exact ties", () => {
  assertEquals(formatF(0.9), "0.900000");
  assertEquals(formatF(18), "18.000000");
  assertEquals(formatF(0.0078125), "0.007812"); // 1/128, exact tie → even
  assertEquals(formatF(0.0234375), "0.023438"); // 3/128 → even (up)
  assertEquals(formatF(-0.0078125), "-0.007812");
  assertEquals(formatF(1.0000005), "1.000001"); // not an exact tie in binary: above it
  assertEquals(formatF(NaN), "nan");
  assertEquals(formatF(Infinity), "inf");
});

Deno.test("speed-history row: %f,%d,%f,%f", () => {
  assertEquals(
    formatSpeedHistoryRow(0.5, 3, 16204.7, 54000),
    "0.500000,3,16204.700000,54000.000000",
  );
});

Deno.test("wallMsToSecNs splits milliseconds", () => {
  assertEquals(wallMsToSecNs(1700000000123), { times: 1700000000, timens: 123000000 });
  assertEquals(wallMsToSecNs(1700000000000.5), { times: 1700000000, timens: 500000 });
});

Deno.test("csv writer: buffers rows until the threshold or flush", async () => {
  const store = new MemoryFileStore();
  const w = new RotatingCsvWriter("/m/a.csv", "h", { store, maxBytes: 0, flushEveryRows: 3 });
  w.writeRow("1");
  w.writeRow("2");
  await Promise.resolve();
  assertEquals(store.files.get("/m/a.csv"), undefined);
  w.writeRow("3");
  await w.flush();
  assertEquals(store.files.get("/m/a.csv"), "h\n1\n2\n3\n");
});

Deno.test("csv writer: rotates at the size limit, keeping the previous file as .1", async () => {
  const store = new MemoryFileStore();
  // Header 2 bytes + rows of 4 bytes: 5 rows fit in 22 bytes.
  const w = new RotatingCsvWriter("/m/s.csv", "h", { store, maxBytes: 22, flushEveryRows: 100 });
  for (let i = 0; i < 12; i++) w.writeRow(String(100 + i));
  await w.flush();
  assertEquals(store.files.get("/m/s.csv.1"), "h\n105\n106\n107\n108\n109\n");
  assertEquals(store.files.get("/m/s.csv"), "h\n110\n111\n");
  for (const text of store.files.values()) assert(text.length <= 22);
  // Rotation also across separate flushes.
  for (let i = 0; i < 4; i++) {
    w.writeRow(String(200 + i));
    await w.flush();
  }
  assertEquals(store.files.get("/m/s.csv.1"), "h\n110\n111\n200\n201\n202\n");
  assertEquals(store.files.get("/m/s.csv"), "h\n203\n");
});

Deno.test("csv writer: a failing store is logged, not thrown, and recovers", async () => {
  const store = new MemoryFileStore();
  let fail = true;
  const flaky = {
    writeNew: (p: string, t: string) =>
      fail ? Promise.reject(new Error("EROFS")) : store.writeNew(p, t),
    append: (p: string, t: string, h: string) => store.append(p, t, h),
    rename: (a: string, b: string) => store.rename(a, b),
    size: (p: string) => store.size(p),
  };
  const w = new RotatingCsvWriter("/m/f.csv", "h", { store: flaky, maxBytes: 0 });
  w.writeRow("lost");
  await w.flush();
  fail = false;
  w.writeRow("kept");
  await w.flush();
  assertEquals(store.files.get("/m/f.csv"), "h\nkept\n");
});

Deno.test("createStatsSink: suppressed → none; else both files with headers", async () => {
  const store = new MemoryFileStore();
  const base = settingsWithDefaults({ stats_file: "/m/st.csv", speedhist_file: "/m/sh.csv" });
  assertEquals(await createStatsSink({ ...base, suppress_statistics: true }, { store }), undefined);
  assertEquals(store.files.size, 0);
  const sink = await createStatsSink(base, { store });
  assert(sink instanceof FileStatsSink);
  assertEquals(store.files.get("/m/st.csv"), STATS_HEADER + "\n");
  sink.speedHistory(0, [1, 2], [3, 4]);
  await sink.flush();
  assertEquals(
    store.files.get("/m/sh.csv"),
    `${SPEED_HISTORY_HEADER}\n0.000000,0,1.000000,3.000000\n0.000000,1,2.000000,4.000000\n`,
  );
});

Deno.test("createStatsSink: a restart keeps the previous run's rows as .1 (real files)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const settings = settingsWithDefaults({
      stats_file: `${dir}/s.csv`,
      speedhist_file: `${dir}/h.csv`,
    });
    const row = { times: 1, timens: 0, rxload: 0, txload: 0, deltadelaydown: 0, deltadelayup: 0 };
    const first = (await createStatsSink(settings))!;
    first.statsRow({ ...row, dlrate: 111, uprate: 11 });
    first.speedHistory(0, [1], [2]);
    await first.flush();
    const before = await Deno.readTextFile(`${dir}/s.csv`);
    const histBefore = await Deno.readTextFile(`${dir}/h.csv`);
    // The daemon restarts (a SIGHUP with a changed file, a respawn after a crash).
    const second = (await createStatsSink(settings))!;
    second.statsRow({ ...row, dlrate: 222, uprate: 22 });
    await second.flush();
    assertEquals(await Deno.readTextFile(`${dir}/s.csv.1`), before);
    assertEquals(await Deno.readTextFile(`${dir}/h.csv.1`), histBefore);
    assertEquals(
      await Deno.readTextFile(`${dir}/s.csv`),
      `${STATS_HEADER}\n1,0,0.000000,0.000000,0.000000,0.000000,222,22\n`,
    );
    assertEquals(await Deno.readTextFile(`${dir}/h.csv`), `${SPEED_HISTORY_HEADER}\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createStatsSink: a stats_file that is a directory is left where it is, one ERROR", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/s.csv`);
    await Deno.writeTextFile(`${dir}/s.csv/mine`, "kept");
    const { logger, lines } = recorder();
    const settings = settingsWithDefaults({
      stats_file: `${dir}/s.csv`,
      speedhist_file: `${dir}/h.csv`,
    });
    const sink = (await createStatsSink(settings, { logger }))!;
    await sink.flush();
    assertEquals(await Deno.readTextFile(`${dir}/s.csv/mine`), "kept");
    assertEquals(await Deno.stat(`${dir}/s.csv.1`).catch(() => null), null);
    assertEquals(lines.filter((l) => l.level === "error").length, 1, JSON.stringify(lines));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileStatsSink: rotates the real stats file at stats_max_kbytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const settings = settingsWithDefaults({
      stats_file: `${dir}/stats.csv`,
      speedhist_file: `${dir}/hist.csv`,
      stats_max_kbytes: 16,
    });
    const sink = new FileStatsSink(settings, { flushEveryRows: 50 });
    const row = {
      times: 1700000000,
      timens: 0,
      rxload: 0.5,
      txload: 0.5,
      deltadelaydown: 1,
      deltadelayup: 1,
      dlrate: 50000,
      uprate: 10000,
    };
    const rowBytes = formatStatsRow(row).length + 1;
    const n = Math.ceil((16 * 1024 * 1.5) / rowBytes);
    for (let i = 0; i < n; i++) sink.statsRow({ ...row, times: row.times + i });
    await sink.flush();
    const cur = await Deno.readTextFile(`${dir}/stats.csv`);
    const old = await Deno.readTextFile(`${dir}/stats.csv.1`);
    assert(old.length <= 16 * 1024 && cur.length <= 16 * 1024);
    assert(cur.startsWith(STATS_HEADER + "\n") && old.startsWith(STATS_HEADER + "\n"));
    const rows = (old + cur).split("\n").filter((l) => l !== "" && l !== STATS_HEADER);
    assertEquals(rows.length, n, "no row lost across the rotation");
    assert(
      cur.trimEnd().endsWith(
        `${row.times + n - 1},0,0.500000,0.500000,1.000000,1.000000,50000,10000`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csv writer: after a failed append it keeps appending, earlier rows are never truncated", async () => {
  const store = new MemoryFileStore();
  let fail = false;
  const flaky = {
    writeNew: (p: string, t: string) => store.writeNew(p, t),
    append: (p: string, t: string, h: string) =>
      fail ? Promise.reject(new Error("ENOSPC")) : store.append(p, t, h),
    rename: (a: string, b: string) => store.rename(a, b),
    size: (p: string) => store.size(p),
  };
  const w = new RotatingCsvWriter("/m/k.csv", "h", { store: flaky, maxBytes: 0 });
  w.writeRow("1");
  await w.flush();
  fail = true;
  w.writeRow("lost");
  await w.flush();
  fail = false;
  w.writeRow("2");
  await w.flush();
  assertEquals(store.files.get("/m/k.csv"), "h\n1\n2\n");
  // A file deleted meanwhile is re-created with its header.
  fail = true;
  w.writeRow("lost");
  await w.flush();
  store.files.delete("/m/k.csv");
  fail = false;
  w.writeRow("3");
  await w.flush();
  assertEquals(store.files.get("/m/k.csv"), "h\n3\n");
});

Deno.test("csv writer: a real file keeps its rows across a write error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/s.csv`;
    let fail = false;
    const real = denoFileStore;
    const store = {
      ...real,
      append: (p: string, t: string, h: string) =>
        fail ? Promise.reject(new Error("EIO")) : real.append(p, t, h),
    };
    const w = new RotatingCsvWriter(path, "h", { store, maxBytes: 0 });
    w.writeRow("a");
    await w.flush();
    fail = true;
    w.writeRow("x");
    await w.flush();
    fail = false;
    w.writeRow("b");
    await w.flush();
    assertEquals(await Deno.readTextFile(path), "h\na\nb\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file store: a torn last row (a failed write not cut back) is cut off before appending", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/s.csv`;
    const long = "x".repeat(5000); // a torn tail longer than one 4 KiB read back
    const cases: [string, string, boolean][] = [
      ["h\na\nb,1", "h\na\nc\n", false],
      [`h\na\n${long}`, "h\na\nc\n", false],
      [`${long}\nb,1`, `${long}\nc\n`, false],
      ["b,1", "h\nc\n", true], // no whole row at all: started again with its header
      ["h\na\n", "h\na\nc\n", false],
    ];
    for (const [before, after, headed] of cases) {
      await Deno.writeTextFile(path, before);
      assertEquals(await denoFileStore.append(path, "c\n", "h\n"), headed);
      assertEquals(await Deno.readTextFile(path), after);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("statsRowsPerFlush: the file is written about every 5 s whatever the decision period", () => {
  assertEquals(statsRowsPerFlush(0.5), 10, "EWMA at min_change_interval: every tenth row");
  assertEquals(statsRowsPerFlush(0.1), 50, "capacity at 0.1 s: every 50th row, not every 10th");
  assertEquals(statsRowsPerFlush(10), 1, "a slow loop writes every row");
});

Deno.test("csv writer: a file deleted or emptied while running starts again with its header", async () => {
  const store = new MemoryFileStore();
  const { logger, lines } = recorder();
  const w = new RotatingCsvWriter("/m/d.csv", "h", { store, maxBytes: 14, logger });
  w.writeRow("1");
  await w.flush();
  store.files.delete("/m/d.csv");
  w.writeRow("2");
  await w.flush();
  assertEquals(store.files.get("/m/d.csv"), "h\n2\n", "not a file without its header");
  store.files.set("/m/d.csv", ""); // `: > file`
  w.writeRow("3");
  await w.flush();
  assertEquals(store.files.get("/m/d.csv"), "h\n3\n");
  // Deleted just before a rotation: nothing to keep as .1, the new file has its header.
  store.files.delete("/m/d.csv");
  w.writeRow("1234567890");
  await w.flush();
  assertEquals([...store.files.entries()], [["/m/d.csv", "h\n1234567890\n"]]);
  assertEquals(lines.map((l) => l.level), ["info", "info"]);
});

Deno.test("csv writer: a fault is logged once, its end once with the rows dropped", async () => {
  const store = new MemoryFileStore();
  const { logger, lines } = recorder();
  let fail = false;
  const flaky = {
    ...store,
    writeNew: (p: string, t: string) => store.writeNew(p, t),
    append: (p: string, t: string, h: string) =>
      fail ? Promise.reject(new Error("ENOSPC")) : store.append(p, t, h),
    rename: (a: string, b: string) => store.rename(a, b),
    size: (p: string) => store.size(p),
  };
  const w = new RotatingCsvWriter("/m/e.csv", "h", { store: flaky, maxBytes: 0, logger });
  await w.flush();
  fail = true;
  for (let i = 0; i < 5; i++) {
    w.writeRow("lost");
    await w.flush();
    await w.flush(); // an empty flush writes nothing: it does not end the fault
  }
  fail = false;
  w.writeRow("back");
  await w.flush();
  assertEquals(store.files.get("/m/e.csv"), "h\nback\n");
  assertEquals(lines, [
    { level: "error", text: "cannot write /m/e.csv: ENOSPC" },
    { level: "info", text: "writing /m/e.csv again (5 rows dropped while it failed)" },
  ]);
});

Deno.test("stats files in a missing directory: made at start and when it vanishes, one INFO each (real directory)", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = `${tmp}/stats/sub`;
    const settings = settingsWithDefaults({
      stats_file: `${dir}/s.csv`,
      speedhist_file: `${dir}/h.csv`,
    });
    const { logger, lines } = recorder();
    const sink = (await createStatsSink(settings, { logger, flushEveryRows: 100 }))!;
    assertEquals(await Deno.readTextFile(`${dir}/s.csv`), STATS_HEADER + "\n");
    assertEquals(await Deno.readTextFile(`${dir}/h.csv`), SPEED_HISTORY_HEADER + "\n");
    const made = (setting: string, file: string) => ({
      level: "info",
      text: `made the missing directory ${dir} of ${setting} ${dir}/${file}`,
    });
    // The two files' writers flush together: one of them makes the directory.
    assertEquals(lines.length, 1);
    assert(
      [made("stats_file", "s.csv"), made("speedhist_file", "h.csv")].some((l) =>
        l.text === lines[0].text && l.level === lines[0].level
      ),
    );
    const row = {
      times: 1,
      timens: 2,
      rxload: 0,
      txload: 0,
      deltadelaydown: 0,
      deltadelayup: 0,
      dlrate: 3,
      uprate: 4,
    };
    for (let round = 0; round < 2; round++) {
      await Deno.remove(`${tmp}/stats`, { recursive: true });
      sink.statsRow(row);
      await sink.flush();
      assertEquals(
        await Deno.readTextFile(`${dir}/s.csv`),
        `${STATS_HEADER}\n${formatStatsRow(row)}\n`,
        "no row lost",
      );
      assertEquals(lines.length, 2 + round);
      assertEquals(lines.at(-1)!.level, "info");
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("csv writer: a missing directory that may not be made is one ERROR naming the setting, until it can be", async () => {
  const store = new MemoryFileStore();
  const { logger, lines } = recorder();
  let dirThere = false;
  let mayMake = false;
  const dirs = {
    ...store,
    writeNew: (p: string, t: string) =>
      dirThere ? store.writeNew(p, t) : Promise.reject(new Deno.errors.NotFound("no dir")),
    append: (p: string, t: string, h: string) =>
      dirThere ? store.append(p, t, h) : Promise.reject(new Deno.errors.NotFound("no dir")),
    rename: (a: string, b: string) => store.rename(a, b),
    size: (p: string) => store.size(p),
    makeDir: (_: string) => {
      if (!mayMake) {
        // What Deno throws for a path outside the permission set.
        return Promise.reject(new Deno.errors.NotCapable("Requires write access"));
      }
      const made = !dirThere;
      dirThere = true;
      return Promise.resolve(made);
    },
  };
  const w = new RotatingCsvWriter("/r/d/e.csv", "h", {
    store: dirs,
    maxBytes: 0,
    logger,
    setting: "stats_file",
  });
  for (let i = 0; i < 3; i++) {
    w.writeRow("lost");
    await w.flush();
  }
  assertEquals(lines, [{
    level: "error",
    text: "cannot make the missing directory /r/d of stats_file /r/d/e.csv: stats_file is " +
      "outside what the daemon's permissions let it write",
  }]);
  mayMake = true;
  w.writeRow("kept");
  await w.flush();
  assertEquals(store.files.get("/r/d/e.csv"), "h\nkept\n");
  assertEquals(lines.slice(1), [
    { level: "info", text: "made the missing directory /r/d of stats_file /r/d/e.csv" },
    { level: "info", text: "writing /r/d/e.csv again (3 rows dropped while it failed)" },
  ]);
});
