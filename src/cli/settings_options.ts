import { optionLabel, type OptionSpec, type ParsedArgs } from "./args.ts";
import {
  type FlagValues,
  loadSettings,
  type ResolvedSettings,
  SETTING_NAMES,
  type SettingName,
  SETTINGS_TABLE,
  type SettingSpec,
} from "../config/mod.ts";
import { settingDetails, settingsHelpText, valueName } from "../config/help.ts";

/**
 * How a command uses the settings, for its `--help` (what it parses is the same everywhere):
 * `run`, `check-config` and `show-settings` need the settings the daemon needs and read the
 * env and the UCI file; `plot` and `simulate` do not need them, and `simulate` reads neither.
 */
export interface SettingsUse {
  /** The default shown for a setting marked `required` in the table (default `(required)`). */
  unrequired?: (name: SettingName) => string;
  /** The settings come from flags and an explicit `--config FILE` only (no env, no default file). */
  flagsAndConfigOnly?: boolean;
}

/** The option of one setting, derived from its row of the settings table (as `--help` shows it). */
function optionFor(name: SettingName, use: SettingsUse): OptionSpec {
  const spec: SettingSpec = SETTINGS_TABLE[name];
  const value = valueName(spec);
  const details = settingDetails(spec, {
    default: spec.required && use.unrequired !== undefined ? use.unrequired(name) : undefined,
    env: !use.flagsAndConfigOnly,
  });
  return {
    long: spec.flag,
    aliases: spec.aliases,
    help: `${spec.description} [${details}]`,
    value: value.name,
    ...(value.optional ? { optionalValue: true } : {}),
    ...(spec.kind === "list" ? { repeatable: true } : {}),
  };
}

/** `--config FILE`, the UCI file the settings come from. */
const CONFIG_OPTION: OptionSpec = {
  long: "config",
  value: "file",
  help: "UCI configuration file (default /etc/config/sqm-autorate)",
};

/** The settings part of the program's `--help`, `--config` first. */
export function settingsHelp(): string {
  return settingsHelpText([[optionLabel(CONFIG_OPTION), CONFIG_OPTION.help]]);
}

/** `--config` and one option per setting, as a command that uses them as `use` says shows them. */
export function settingOptions(use: SettingsUse = {}): readonly OptionSpec[] {
  const config = use.flagsAndConfigOnly
    ? { ...CONFIG_OPTION, help: "UCI configuration file (default: none)" }
    : CONFIG_OPTION;
  return [config, ...SETTING_NAMES.map((name) => optionFor(name, use))];
}

/** The options of `run`, `check-config` and `show-settings`: `--config` and every setting. */
export const SETTING_OPTIONS: readonly OptionSpec[] = settingOptions();

/** The setting values a user gave as flags (not defaults). */
export function flagValuesFrom(args: ParsedArgs): FlagValues {
  const flags: FlagValues = {};
  for (const name of SETTING_NAMES) {
    const value = args.raw(SETTINGS_TABLE[name].flag);
    if (value !== undefined) flags[name] = value;
  }
  return flags;
}

/** `--config FILE` when given. */
export function configPathFrom(args: ParsedArgs): string | undefined {
  return args.string(CONFIG_OPTION.long);
}

/** Resolves the settings for a command from its flags, the env and the UCI file. */
export function settingsFromArgs(
  args: ParsedArgs,
  options: { requireDaemon?: boolean } = {},
): ResolvedSettings {
  return loadSettings({
    flags: flagValuesFrom(args),
    configPath: configPathFrom(args),
    requireDaemon: options.requireDaemon,
  });
}

/**
 * Rewrites upstream's `-s/--show-settings` and `-v` to our subcommand and `--version`; a leading
 * `--` is dropped. (Upstream's long aliases, `--ul` and the like, are the options' aliases.)
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  let showSettings = false;
  const out: string[] = [];
  // `deno task start -- ARGS` hands its own `--` on to the program (Deno 2.9): drop it.
  const args = argv[0] === "--" ? argv.slice(1) : argv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (arg === "-s" || arg === "--show-settings") {
      showSettings = true;
      continue;
    }
    out.push(arg === "-v" ? "--version" : arg);
  }
  return showSettings ? ["show-settings", ...out] : out;
}
