import { assert, assertEquals, assertRejects, assertThrows } from "../util/assert.ts";
import {
  parseSpeedHistoryCsv,
  parseStatsCsv,
  readStatsFiles,
  StatsFileError,
} from "./stats_reader.ts";
import { STATS_HEADER } from "./stats.ts";

const ROW = "1700000000,500000000,0.840000,0.980000,3.250000,nan,65194,9779";

Deno.test("stats CSV: rows parse, nan delays are kept as NaN", () => {
  const { rows, droppedPartialLine } = parseStatsCsv(`${STATS_HEADER}\n${ROW}\n`, "s.csv");
  assertEquals(droppedPartialLine, false);
  assertEquals(rows.length, 1);
  assertEquals(rows[0].dlrate, 65194);
  assertEquals(rows[0].deltadelaydown, 3.25);
  assert(Number.isNaN(rows[0].deltadelayup));
});

Deno.test("stats CSV: a last line without its newline (write cut short) is left out", () => {
  const { rows, droppedPartialLine } = parseStatsCsv(
    `${STATS_HEADER}\n${ROW}\n1700000001,0,0.9`,
    "s.csv",
  );
  assertEquals(rows.length, 1);
  assertEquals(droppedPartialLine, true);
});

Deno.test("stats CSV: a bad line in the middle names file and line", () => {
  const e = assertThrows(
    () => parseStatsCsv(`${STATS_HEADER}\n${ROW}\n1700000001,0,x,0,0,0,1,1\n${ROW}\n`, "s.csv"),
    StatsFileError,
  );
  assert(e.message.startsWith("s.csv:3: column rxload"), e.message);
  const short = assertThrows(
    () => parseStatsCsv(`${STATS_HEADER}\n1,2,3\n`, "s.csv"),
    StatsFileError,
  );
  assert(short.message.includes("s.csv:2: expected 8 fields"), short.message);
  const rate = assertThrows(
    () => parseStatsCsv(`${STATS_HEADER}\n1,0,0,0,0,0,nan,1\n`, "s.csv"),
    StatsFileError,
  );
  assert(rate.message.includes("column dlrate"), rate.message);
});

Deno.test("stats CSV: another file (wrong header, empty) is refused", () => {
  const e = assertThrows(
    () => parseStatsCsv("time,counter,upspeed,downspeed\n", "h.csv"),
    StatsFileError,
  );
  assert(e.message.startsWith("h.csv:1: not a statistics file"), e.message);
  const empty = assertThrows(() => parseStatsCsv("", "e.csv"), StatsFileError);
  assert(empty.message.startsWith("e.csv: empty file"), empty.message);
});

Deno.test("speed history: rows with one time form one dump", () => {
  const dumps = parseSpeedHistoryCsv(
    "time,counter,upspeed,downspeed\n0.000000,0,100.0,900.0\n0.000000,1,110.0,950.0\n" +
      "300.000000,0,120.0,990.0\n",
    "h.csv",
  );
  assertEquals(dumps, [
    { timeS: 0, up: [100, 110], down: [900, 950] },
    { timeS: 300, up: [120], down: [990] },
  ]);
  const bad = assertThrows(
    () => parseSpeedHistoryCsv("time,counter,upspeed,downspeed\n1,2,x,4\n", "h.csv"),
    StatsFileError,
  );
  assert(bad.message.startsWith("h.csv:2:"), bad.message);
});

Deno.test("readStatsFiles: the rotated .1 copy comes first; a missing file is named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stats_reader_" });
  try {
    const path = `${dir}/s.csv`;
    await Deno.writeTextFile(
      `${path}.1`,
      `${STATS_HEADER}\n1000,0,0,0,0,0,10,1\n1001,0,0,0,0,0,11,1\n`,
    );
    await Deno.writeTextFile(path, `${STATS_HEADER}\n1002,0,0,0,0,0,12,1\n`);
    const r = await readStatsFiles(path);
    assertEquals(r.files, [`${path}.1`, path]);
    assertEquals(r.rows.map((x) => x.dlrate), [10, 11, 12]);
    const only = await readStatsFiles(`${path}.1`);
    assertEquals(only.rows.length, 2);
    await Deno.writeTextFile(path, `${STATS_HEADER}\n`);
    await Deno.remove(`${path}.1`);
    const none = await assertRejects(() => readStatsFiles(path), StatsFileError);
    assert(none.message.includes("no statistics rows"), none.message);
    const missing = await assertRejects(() => readStatsFiles(`${dir}/nope.csv`), StatsFileError);
    assert(missing.message.endsWith("nope.csv: cannot read: no such file"), missing.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
