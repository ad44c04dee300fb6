/**
 * The command line: `run` (default), `check-config`, `show-settings`, and the subcommands other
 * stages register. Every command returns an exit code instead of calling `Deno.exit`, so `main.ts`
 * can clean up children first and tests can run commands in-process. Each command declares its
 * options in one table (src/cli/args.ts); the settings' options come from the settings table.
 */
import denoJson from "../../deno.json" with { type: "json" };
import { ExitCode } from "../util/exit_codes.ts";
import { type CliContext, type CliIo, processIo } from "./io.ts";
import { configErrorExit } from "./errors.ts";
import type { CommandSpec } from "./args.ts";
import { runCommand } from "./dispatch.ts";
import { earlyErrorIo, earlyLogPriority } from "./early_errors.ts";

export type { CliContext, CliIo };
export { processIo };
import { normalizeArgv, SETTING_OPTIONS, settingsHelp } from "./settings_options.ts";
import { checkConfigAction, showSettingsAction } from "./config_commands.ts";
import { runAction } from "./run_command.ts";
import { simulateCommand } from "./simulate_command.ts";
import { reflectorsCommand } from "./reflectors_command.ts";
import { plotCommand } from "./plot_command.ts";

/** The program version (from deno.json). */
export const VERSION: string = denoJson.version;

/** The program's command table; the commands write to `io`. */
export function programSpec(io: CliIo): CommandSpec {
  const ctx: CliContext = { io, exitCode: ExitCode.OK };
  return {
    name: "sqm-autorate",
    description: "Keeps latency low on variable-rate links by re-tuning the CAKE/HTB/TBF shaper " +
      "rate from one-way delay and load.",
    version: `sqm-autorate ${VERSION}`,
    defaultSubcommand: "run",
    helpAfter: settingsHelp,
    unknownCommandHint: (word) => serviceCommandHint(word) ?? tomlConfigHint(word),
    subcommands: [
      {
        name: "run",
        description: "run the daemon (the default command)",
        options: SETTING_OPTIONS,
        run: runAction,
      },
      {
        name: "check-config",
        description:
          "print the effective settings with their sources; exit 0, 78 on a configuration " +
          "error, 65 on a broken Lua script",
        options: SETTING_OPTIONS,
        run: (args) => checkConfigAction(args, ctx),
      },
      {
        name: "show-settings",
        description: "print every setting as `name: value (type)` (upstream's --show-settings)",
        options: SETTING_OPTIONS,
        run: (args) => showSettingsAction(args, ctx),
      },
      simulateCommand({ io }),
      reflectorsCommand({ io }),
      plotCommand({ io }),
    ],
  };
}

/**
 * The Rust port took its TOML file as the first argument (`sqm-autorate-rust FILE.toml`); this
 * daemon reads the UCI file, whose sections and options carry the same names (docs/install.md).
 */
function tomlConfigHint(word: string): string | undefined {
  if (!/\.toml$/i.test(word)) return undefined;
  return "a TOML file is the Rust port's configuration, which is not read here; write its " +
    "[network], [output] and [advanced_settings] keys as options of `config network`, " +
    "`config output` and `config advanced_settings` in /etc/config/sqm-autorate (or a file given " +
    'with --config FILE; docs/install.md, "Coming from upstream or the Rust port")';
}

/** Words an owner types at a service (upstream's `service sqm-autorate …`), not at the program. */
const SERVICE_WORDS = new Set([
  "start",
  "stop",
  "restart",
  "reload",
  "status",
  "enable",
  "disable",
]);

/**
 * `sqm-autorate status` and the like: the service manager answers those (docs/install.md), and
 * the running daemon's state is in its log, in `tc` and on the metrics page.
 */
function serviceCommandHint(word: string): string | undefined {
  if (!SERVICE_WORDS.has(word)) return undefined;
  const what = word === "status"
    ? " (while it runs, its log has a summary line every 5 minutes and `tc qdisc show` the " +
      'rates in force; docs/operation.md, "Logging")'
    : "";
  return `the daemon runs as a service: \`/etc/init.d/sqm-autorate ${word}\` (OpenWrt, as ` +
    `upstream's \`service sqm-autorate ${word}\`) or \`systemctl ${word} sqm-autorate\`${what}`;
}

/**
 * Runs the CLI with `argv` (without the program name) and returns the exit code. Its own errors
 * before logging starts carry their syslog priority when `log_priority` is `prefix`
 * (src/cli/early_errors.ts); `options.env` reads the environment (default the process's).
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = processIo,
  options: { env?: (name: string) => string | undefined } = {},
): Promise<number> {
  const env = options.env ?? processEnv;
  const errors = earlyErrorIo(io, earlyLogPriority(argv, env));
  try {
    return await runCommand(programSpec(io), normalizeArgv(argv), io, { errors });
  } catch (e) {
    const code = configErrorExit(errors, e);
    if (code !== undefined) return code;
    errors.err(`sqm-autorate: internal error: ${(e as Error)?.stack ?? e}\n`);
    return ExitCode.SOFTWARE;
  }
}

/** One variable of the process's environment; none where it may not be read. */
function processEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
