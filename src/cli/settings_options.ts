import { type Command, Option } from "commander";
import {
  type FlagValues,
  loadSettings,
  type ResolvedSettings,
  SETTING_NAMES,
  SETTINGS_TABLE,
  type SettingSpec,
} from "../config/mod.ts";
import { defaultText, uciText } from "../config/help.ts";

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The commander `Option` for one setting, derived from its table row. */
function optionFor(spec: SettingSpec): Option {
  const help = `${spec.description} [default ${defaultText(spec)}; env ${spec.env.join("|")}; ` +
    `uci ${uciText(spec)}]`;
  if (spec.kind === "boolean") return new Option(`--${spec.flag} [bool]`, help);
  if (spec.kind === "list") {
    return new Option(`--${spec.flag} <path>`, `${help} (repeatable)`).argParser(collect);
  }
  return new Option(`--${spec.flag} <value>`, help);
}

/** Adds `--config FILE` and one option per setting to a (sub)command. */
export function addSettingOptions(cmd: Command): Command {
  cmd.option("--config <file>", "UCI configuration file (default /etc/config/sqm-autorate)");
  for (const name of SETTING_NAMES) cmd.addOption(optionFor(SETTINGS_TABLE[name]));
  return cmd;
}

/** The setting values a user gave as flags on `cmd` (not defaults). */
export function flagValuesFrom(cmd: Command): FlagValues {
  const flags: FlagValues = {};
  for (const name of SETTING_NAMES) {
    const attr = new Option(`--${SETTINGS_TABLE[name].flag} <v>`).attributeName();
    if (cmd.getOptionValueSource(attr) !== "cli") continue;
    flags[name] = cmd.getOptionValue(attr);
  }
  return flags;
}

/** Resolves the settings for a command from its flags, the env and the UCI file. */
export function settingsFromCommand(
  cmd: Command,
  options: { requireDaemon?: boolean } = {},
): ResolvedSettings {
  return loadSettings({
    flags: flagValuesFrom(cmd),
    configPath: cmd.getOptionValue("config"),
    requireDaemon: options.requireDaemon,
  });
}

/**
 * Rewrites upstream's extra long aliases (`--ul`, `--db`, `--ns`, …) to the canonical flags, and
 * upstream's `-s/--show-settings` and `-v` to our subcommand and `--version`; a leading `--` is
 * dropped.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const aliases = new Map<string, string>();
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = SETTINGS_TABLE[name];
    for (const a of spec.aliases ?? []) aliases.set(`--${a}`, `--${spec.flag}`);
  }
  let showSettings = false;
  const out: string[] = [];
  // `deno task start -- ARGS` hands its own `--` on to the program (Deno 2.9): drop it.
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  for (const arg of args) {
    if (arg === "--") {
      out.push(...args.slice(args.indexOf(arg)));
      break;
    }
    if (arg === "-s" || arg === "--show-settings") {
      showSettings = true;
      continue;
    }
    if (arg === "-v") {
      out.push("--version");
      continue;
    }
    const eq = arg.indexOf("=");
    const head = eq > 0 ? arg.slice(0, eq) : arg;
    const canonical = aliases.get(head);
    out.push(canonical ? canonical + (eq > 0 ? arg.slice(eq) : "") : arg);
  }
  return showSettings ? ["show-settings", ...out] : out;
}
