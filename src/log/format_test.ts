import type { LogRecord } from "./logger.ts";
import { assert, assertEquals } from "../util/assert.ts";
import { formatRecord, formatRecordJson } from "./mod.ts";

function record(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    category: ["sqm-autorate", "control"],
    level: "warning",
    message: ["rate cut to ", 12000, " kbit/s on ", "ifb0", ""],
    rawMessage: "rate cut to {rate} kbit/s on {dev}",
    properties: { rate: 12000, dev: "ifb0" },
    timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
    ...overrides,
  };
}

Deno.test("json log line: one parseable object with time, level, stage, message and properties", () => {
  const line = formatRecordJson(record());
  assert(line.endsWith("}\n") && !line.slice(0, -1).includes("\n"), line);
  assertEquals(JSON.parse(line), {
    time: "2026-01-02T03:04:05.678Z",
    level: "WARN",
    stage: "control",
    message: "rate cut to 12000 kbit/s on ifb0",
    rate: 12000,
    dev: "ifb0",
  });
});

Deno.test("json log line: a message with quotes and newlines stays one line; reserved keys are not overwritten", () => {
  const line = formatRecordJson(record({
    message: ['tc said "no"\nsecond line: ', "x", ""],
    properties: { level: "bogus", error: new Error("boom"), big: 10n },
  }));
  assertEquals(line.split("\n").length, 2);
  const obj = JSON.parse(line);
  assertEquals(obj.level, "WARN");
  assertEquals(obj.message, 'tc said "no"\nsecond line: x');
  assertEquals(obj.error, "Error: boom");
  assertEquals(obj.big, "10");
});

Deno.test("text log line keeps upstream's format", () => {
  const line = formatRecord(record());
  assert(/^\[WARN - \d{8}T\d\d:\d\d:\d\d\]: rate cut to 12000 kbit\/s on ifb0\n$/.test(line), line);
});

Deno.test("sqm-autorate simulate --log-format json writes json log lines to stderr", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A", // not -P: config-file permissions print an "experimental" warning on stderr
      new URL("../../main.ts", import.meta.url).pathname,
      "simulate",
      "--duration",
      "5",
      "--log-level",
      "INFO",
      "--log-format",
      "json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr).trim();
  assertEquals(out.code, 0, err);
  const lines = err.split("\n");
  assert(lines.length > 0 && lines[0] !== "", "no log lines");
  for (const l of lines) {
    const obj = JSON.parse(l);
    assert(typeof obj.time === "string" && typeof obj.message === "string", l);
  }
});

Deno.test("text log line: a multi-line value (a traceback) becomes one line", () => {
  const line = formatRecord(record({
    message: ["plugin failed: ", "bad value\nstack traceback:\n\t[C]: in ?\n", ""],
  }));
  assertEquals(line.split("\n").length, 2, line); // the text, then the final newline
  assert(line.endsWith("plugin failed: bad value | stack traceback: | [C]: in ?\n"), line);
});
