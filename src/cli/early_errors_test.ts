import { assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { runCli } from "./mod.ts";
import { captureIo } from "./testing.ts";
import { earlyLogPriority } from "./early_errors.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("early errors: the log_priority of the flag, else SQMA_LOG_PRIORITY, else the service file's default", () => {
  const unit = { SQMA_LOG_PRIORITY_DEFAULT: "prefix" };
  assertEquals(earlyLogPriority(["run"], envOf(unit)), "prefix");
  assertEquals(earlyLogPriority(["run"], envOf({ ...unit, SQMA_LOG_PRIORITY: "none" })), "none");
  assertEquals(earlyLogPriority(["run", "--log-priority", "none"], envOf(unit)), "none");
  assertEquals(earlyLogPriority(["run", "--log-priority=PREFIX"], envOf({})), "prefix");
  assertEquals(earlyLogPriority(["run", "--log-priority", "bogus"], envOf(unit)), undefined);
  assertEquals(earlyLogPriority(["run"], envOf({})), undefined);
});

Deno.test("early errors: under log_priority prefix a usage mistake and an invalid configuration start each line with <3>, a warning with <4>", async () => {
  // Before, these lines had no prefix and journald filed them at info.
  const run = async (argv: string[], vars: Record<string, string>) => {
    const io = captureIo();
    const code = await runCli(argv, io, { env: envOf(vars) });
    return { code, lines: io.stderr.trimEnd().split("\n") };
  };
  const unit = { SQMA_LOG_PRIORITY_DEFAULT: "prefix" };
  const usage = await run(["run", "--no-such-flag"], unit);
  assertEquals(usage.code, ExitCode.USAGE);
  assertEquals(usage.lines.length, 2, usage.lines.join("\n"));
  assertEquals(usage.lines.filter((l) => !l.startsWith("<3>")), [], usage.lines.join("\n"));
  const file = await Deno.makeTempFile({ prefix: "sqma-early-" });
  try {
    // A misspelt option is a warning beside the error (the file's only base rate is bad).
    await Deno.writeTextFile(
      file,
      "config network\n\toption upload_base_kbitz '1'\n\toption download_base_kbits 'x'\n",
    );
    const config = await run(["run", "--config", file, "--ul", "wan", "--dl", "ifb4wan"], unit);
    assertEquals(config.code, ExitCode.CONFIG);
    const text = config.lines.join("\n");
    assertEquals(config.lines.filter((l) => !/^<[34]>/.test(l)), [], text);
    assertEquals(config.lines.filter((l) => l.startsWith("<4>warning: ")).length > 0, true, text);
    assertEquals(config.lines.includes("<3>sqm-autorate: invalid configuration:"), true, text);
  } finally {
    await Deno.remove(file);
  }
  // Without the mode (a terminal), or with another, the lines are as before.
  for (const vars of [{}, { ...unit, SQMA_LOG_PRIORITY: "stream" }]) {
    const plain = await run(["run", "--no-such-flag"], vars);
    assertEquals(plain.lines.filter((l) => l.startsWith("<")), [], JSON.stringify(vars));
  }
});
