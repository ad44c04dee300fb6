/**
 * The command line's own errors, written before logging starts (a usage mistake, an invalid
 * configuration), as the service manager reads them: under `log_priority prefix` each line starts
 * with `<3>` (`<4>` for a `warning:` line), so journald files them as errors, not at its default
 * `info` (docs/operation.md, "Log priority"). The mode is taken from `--log-priority` and the
 * environment only: the UCI file may be what failed.
 */
import { SETTINGS_TABLE, type SettingSpec } from "../config/settings_table.ts";
import { type LogPriority, syslogPrefix } from "../log/mod.ts";
import type { CliIo } from "./io.ts";

const SPEC: SettingSpec = SETTINGS_TABLE.log_priority;

/**
 * The `log_priority` the command line asks for, in the settings' precedence less the UCI file:
 * `--log-priority`, then `SQMA_LOG_PRIORITY`, then a service file's `SQMA_LOG_PRIORITY_DEFAULT`;
 * undefined when none says a valid one.
 */
export function earlyLogPriority(
  argv: readonly string[],
  env: (name: string) => string | undefined,
): LogPriority | undefined {
  const flag = `--${SPEC.flag}`;
  let given: string | undefined;
  for (let i = 0; i < argv.length && argv[i] !== "--"; i++) {
    if (argv[i] === flag) given = argv[i + 1];
    else if (argv[i].startsWith(`${flag}=`)) given = argv[i].slice(flag.length + 1);
  }
  for (const value of [given, ...SPEC.env.map(env), env(SPEC.serviceDefaultEnv!)]) {
    const v = value?.trim().toLowerCase();
    if (v !== undefined && v !== "" && SPEC.choices!.includes(v)) return v as LogPriority;
    if (v !== undefined && v !== "") return undefined; // invalid: its own error says so
  }
  return undefined;
}

/** `io` whose errors carry their syslog priority when `priority` is `prefix`. */
export function earlyErrorIo(io: CliIo, priority: LogPriority | undefined): CliIo {
  if (priority !== "prefix") return io;
  return {
    out: (text) => io.out(text),
    err: (text) =>
      io.err(
        text.replace(
          /^(?=.)/gm,
          (_, at: number) => syslogPrefix(text.startsWith("warning: ", at) ? "warning" : "error"),
        ),
      ),
  };
}
