/**
 * The statistics files on a real, tiny tmpfs (root: `mount`), as on a router's /tmp: the file
 * system fills up or turns read-only while the daemon writes, or the user deletes or moves the
 * file away. Each fault is logged once, writing resumes when it clears, and what is on disk always
 * parses (`plot`): no half row (docs/operation.md, "Statistics files on a full or read-only /tmp").
 */
import { assert, assertEquals } from "../util/assert.ts";
import type { Logger } from "../log/logger.ts";
import { needs } from "../util/netns_testing.ts";
import { fillUp, remount, tmpfsSkipReason, withTmpfs } from "../util/tmpfs_testing.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { FileStatsSink } from "./stats.ts";
import { parseSpeedHistoryCsv, parseStatsCsv } from "./stats_reader.ts";
import type { StatsRow } from "../control/ports.ts";

const reason = tmpfsSkipReason();

function recorder(): { logger: Logger; lines: { level: string; text: string }[] } {
  const lines: { level: string; text: string }[] = [];
  const at = (level: string) => (message: string, props?: Record<string, unknown>) =>
    lines.push({ level, text: `${message} ${JSON.stringify(props ?? {})}` });
  const logger = { info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
  return { logger: logger as unknown as Logger, lines };
}

function row(i: number): StatsRow {
  return {
    times: 1700000000 + i,
    timens: 500000000,
    rxload: 0.5,
    txload: 0.25,
    deltadelaydown: 1.5,
    deltadelayup: 2,
    dlrate: 50000 + i,
    uprate: 10000,
  };
}

/** A sink over `dir` writing every 10 rows, rotating at `kib` KiB. */
function sinkIn(dir: string, logger: Logger, kib = 1024): FileStatsSink {
  const settings = settingsWithDefaults({
    stats_file: `${dir}/stats.csv`,
    speedhist_file: `${dir}/hist.csv`,
    stats_max_kbytes: kib,
  });
  return new FileStatsSink(settings, { logger, flushEveryRows: 10 });
}

/** Writes rows `from`..`to-1` (and a speed-history dump every 50), flushing each 10. */
async function run(sink: FileStatsSink, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    sink.statsRow(row(i));
    if (i % 50 === 0) sink.speedHistory(i / 2, [10000, 9000], [50000, 45000]);
    if (i % 10 === 9) await sink.flush();
  }
  await sink.flush();
}

/** Parses both files like `plot` does; returns the stats rows' `dlrate - 50000` (row numbers). */
async function readBack(dir: string): Promise<number[]> {
  const text = await Deno.readTextFile(`${dir}/stats.csv`);
  const parsed = parseStatsCsv(text, "stats.csv");
  assertEquals(parsed.droppedPartialLine, false, "no half row on disk");
  parseSpeedHistoryCsv(await Deno.readTextFile(`${dir}/hist.csv`), "hist.csv");
  return parsed.rows.map((r) => r.dlrate - 50000);
}

function count(lines: { level: string; text: string }[], level: string, part: string): number {
  return lines.filter((l) => l.level === level && l.text.includes(part)).length;
}

Deno.test({
  ...needs("tmpfs: a full file system mid-run: logged once per file, no half row, resumes", reason),
  fn: () =>
    withTmpfs(64, async (dir) => {
      const { logger, lines } = recorder();
      const sink = sinkIn(dir, logger);
      await run(sink, 0, 100);
      await fillUp(dir);
      await run(sink, 100, 3000); // ~200 KiB of rows against a full 64 KiB file system
      const during = await readBack(dir);
      assert(during.length >= 100, `rows before the fault kept (${during.length})`);
      assertEquals(during, [...during.keys()], "rows in order, none torn");
      assertEquals(count(lines, "error", "stats.csv"), 1, JSON.stringify(lines));
      assertEquals(count(lines, "error", "hist.csv"), 1, JSON.stringify(lines));
      await Deno.remove(`${dir}/filler`);
      await run(sink, 3000, 3100);
      const after = await readBack(dir);
      assertEquals(after.slice(0, during.length), during, "nothing written before is lost");
      assertEquals(after.slice(-100), [...Array(100).keys()].map((i) => 3000 + i));
      assertEquals(count(lines, "info", "writing"), 2, "the resumption of each file, once");
      assertEquals(count(lines, "error", ""), 2);
    }),
});

Deno.test({
  ...needs("tmpfs: a file system turned read-only mid-run: logged once, resumes on rw", reason),
  fn: () =>
    withTmpfs(256, async (dir) => {
      const { logger, lines } = recorder();
      const sink = sinkIn(dir, logger);
      await run(sink, 0, 100);
      await remount(dir, true);
      try {
        await run(sink, 100, 400);
      } finally {
        await remount(dir, false);
      }
      assertEquals(count(lines, "error", "stats.csv"), 1, JSON.stringify(lines));
      assertEquals(count(lines, "error", "hist.csv"), 1, JSON.stringify(lines));
      await run(sink, 400, 450);
      const rows = await readBack(dir);
      assertEquals(rows, [
        ...[...Array(100).keys()],
        ...[...Array(50).keys()].map((i) => 400 + i),
      ]);
      assertEquals(count(lines, "info", "writing"), 2);
    }),
});

Deno.test({
  ...needs(
    "tmpfs: a stats file deleted, moved away or emptied while running starts again with its header",
    reason,
  ),
  fn: () =>
    withTmpfs(256, async (dir) => {
      const { logger, lines } = recorder();
      const sink = sinkIn(dir, logger);
      await run(sink, 0, 20);
      await Deno.rename(`${dir}/stats.csv`, `${dir}/kept.csv`);
      await run(sink, 20, 40);
      assertEquals(
        parseStatsCsv(await Deno.readTextFile(`${dir}/kept.csv`), "kept").rows.length,
        20,
        "the moved file is left alone",
      );
      assertEquals(await readBack(dir), [...Array(20).keys()].map((i) => 20 + i));
      await Deno.remove(`${dir}/stats.csv`);
      await run(sink, 40, 50);
      assertEquals(await readBack(dir), [...Array(10).keys()].map((i) => 40 + i));
      await Deno.truncate(`${dir}/stats.csv`, 0); // `: > stats.csv`
      await run(sink, 50, 60);
      assertEquals(await readBack(dir), [...Array(10).keys()].map((i) => 50 + i));
      assertEquals(count(lines, "info", "missing or empty"), 3);
      assertEquals(count(lines, "error", ""), 0, JSON.stringify(lines));
    }),
});

Deno.test({
  ...needs(
    "tmpfs: a rotating file on a full file system: logged once, both files whole, resumes",
    reason,
  ),
  fn: () =>
    withTmpfs(64, async (dir) => {
      const { logger, lines } = recorder();
      const sink = sinkIn(dir, logger, 8);
      // ~18 KiB of rows: rotated twice, the current file within its first page (4 KiB). A full
      // file system then stops it at the end of that page, short of its next rotation.
      await run(sink, 0, 250);
      assert((await Deno.stat(`${dir}/stats.csv`)).size < 4096);
      await fillUp(dir);
      await run(sink, 250, 2000);
      await Deno.remove(`${dir}/filler`);
      await run(sink, 2000, 2300);
      const old = parseStatsCsv(await Deno.readTextFile(`${dir}/stats.csv.1`), "stats.csv.1");
      assertEquals(old.droppedPartialLine, false);
      const cur = await readBack(dir);
      const rows = [...old.rows.map((r) => r.dlrate - 50000), ...cur];
      for (let i = 1; i < rows.length; i++) assert(rows[i] > rows[i - 1], "in order");
      assertEquals(rows.at(-1), 2299);
      for (const f of ["stats.csv", "stats.csv.1"]) {
        assert((await Deno.stat(`${dir}/${f}`)).size <= 8 * 1024);
      }
      assertEquals(count(lines, "error", "stats.csv"), 1, JSON.stringify(lines));
      assertEquals(count(lines, "info", "stats.csv"), 1, JSON.stringify(lines));
    }),
});
