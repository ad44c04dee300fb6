/**
 * Checks across settings and sources that one value alone cannot tell, run by `resolveSettings`
 * so `run`, `check-config`, `show-settings` and `simulate` reject (or warn about) the same
 * things. Pure: the UCI file and the environment's names are inputs.
 */
import {
  SETTING_NAMES,
  type SettingName,
  SETTINGS_TABLE,
  type SettingSpec,
  settingUciOptions,
  type TableSettings,
} from "./settings_table.ts";
import type { SettingProblem, SettingsInput, SettingSource } from "./sources.ts";
import type { UciSection } from "./uci.ts";
import { ratecontrollerProblem } from "./ratecontroller_names.ts";
import { didYouMean } from "../util/suggest.ts";
import { misplacedOptionHint, renamedOptionHint } from "./uci_renamed.ts";
import { slowBaseRateWarnings } from "./rate_units.ts";
import { placeholderRateWarnings } from "./placeholder_rates.ts";
import { idleThresholdWarnings } from "./idle_threshold.ts";
import { pluginBaseName } from "./plugin_name.ts";
import {
  dryRunProblems,
  OBSERVABILITY_HINT,
  RUST_PACKAGE_SECTION,
  rustPortEnvHint,
  settingEnvNames,
  TESTING_HINT,
} from "./rust_port.ts";

/** Options other tools read from the UCI file (the init script's `use_syslog`). */
const FOREIGN_OPTIONS: Readonly<Record<string, readonly string[]>> = { output: ["use_syslog"] };

/** The longest interface name Linux allows (IFNAMSIZ 16 minus the terminating NUL). */
export const MAX_IFNAME_BYTES = 15;

/** What is wrong with an interface name the kernel could never have, or undefined. */
export function ifnameProblem(name: string): string | undefined {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_IFNAME_BYTES) {
    return `"${name}" is ${bytes} bytes long; Linux interface names have at most ` +
      `${MAX_IFNAME_BYTES}`;
  }
  if (name === "." || name === "..") return `"${name}" cannot be an interface name`;
  if (/[/:\s]/.test(name)) {
    return `"${name}" cannot be an interface name (no "/", ":" or whitespace)`;
  }
  return undefined;
}

/** UCI options the daemon reads, by section type. */
function knownUciOptions(): Map<string, Set<string>> {
  const known = settingUciOptions();
  for (const [type, options] of Object.entries(FOREIGN_OPTIONS)) {
    for (const o of options) known.get(type)?.add(o);
  }
  return known;
}

/** Plugin names a plugin's own section may be called after (`delay-histogram` → both spellings). */
function pluginSectionNames(v: TableSettings): Set<string> {
  const names = new Set<string>();
  for (const script of [v.plugin_ratecontrol, ...v.plugin_scripts, v.rate_controller]) {
    const base = pluginBaseName(script);
    if (base === "") continue;
    names.add(base);
    names.add(base.replaceAll("-", "_"));
  }
  return names;
}

/**
 * Misspelt UCI sections and options: warnings naming `FILE:LINE` with a suggestion. An unknown
 * section type is only reported when it looks like one of ours, because plugins may read
 * sections of any name (`settings.plugin(name)`).
 */
function uciWarnings(input: SettingsInput, v: TableSettings): string[] {
  const uci = input.uci;
  if (uci === undefined) return [];
  const known = knownUciOptions();
  const plugins = pluginSectionNames(v);
  const warnings: string[] = [];
  for (const section of uci.sections) {
    const options = known.get(section.type);
    if (options === undefined) {
      if (section.type === RUST_PACKAGE_SECTION && !plugins.has(section.type)) {
        warnings.push(...rustPackageWarnings(uci.path, section, known));
        continue;
      }
      if (section.type === "observability" && !plugins.has(section.type)) {
        warnings.push(
          `${uci.path}:${section.line}: section type "observability" is not read by ` +
            `sqm-autorate: ${OBSERVABILITY_HINT}`,
        );
        continue;
      }
      const hint = didYouMean(section.type, known.keys());
      if (hint !== "" && !plugins.has(section.type)) {
        warnings.push(
          `${uci.path}:${section.line}: section type "${section.type}" is not read by ` +
            `sqm-autorate${hint}`,
        );
      }
      continue;
    }
    if (section.index > 0) {
      warnings.push(
        `${uci.path}:${section.line}: only the first \`config ${section.type}\` section is ` +
          "read; this one is ignored",
      );
      continue;
    }
    const off = remoteOffWarning(uci.path, section, v);
    if (off !== undefined) warnings.push(off);
    for (const [option, value] of section.options) {
      if (options.has(option)) continue;
      const at = `${uci.path}:${value.line}: option "${option}"`;
      const hint = renamedOptionHint(section, option) ??
        misplacedOptionHint(option, section.type, known);
      warnings.push(
        hint !== undefined
          ? `${at} is not read from \`config ${section.type}\`: ${hint}`
          : `${at} is not read from \`config ${section.type}\`${didYouMean(option, options)}`,
      );
    }
  }
  return warnings;
}

/**
 * A `config remote` section that leaves remote mode off (no `host`, an empty one, or a misspelt
 * option): the daemon then shapes this machine's interfaces, and the owner who wrote the section
 * learns it only from `interface wan does not exist here` a minute later (docs/remote.md).
 */
function remoteOffWarning(
  path: string,
  section: UciSection,
  v: TableSettings,
): string | undefined {
  if (section.type !== "remote" || v.remote !== "") return undefined;
  const host = section.options.get("host");
  // A host the file gives, emptied by a flag or variable, is local mode on purpose.
  if (host !== undefined && host.value !== "") return undefined;
  const why = host === undefined ? "has no option host" : "has an empty option host";
  return `${path}:${section.line}: \`config remote\` ${why}, so remote mode is off: the ` +
    "interfaces and tc are this machine's, not a router's; set option host " +
    "'[user@]router' (e.g. 'root@192.168.1.1') to shape the router over SSH, or remove the " +
    "section (docs/remote.md)";
}

/**
 * The Rust port package's `config sqm-autorate` section: each option names the section that reads
 * it here (or what became of it), since the whole section is otherwise ignored.
 */
function rustPackageWarnings(
  path: string,
  section: UciSection,
  known: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  return [...section.options].map(([option, value]) => {
    const hint = option === "testing"
      ? TESTING_HINT
      : misplacedOptionHint(option, section.type, known) ?? "not an option of sqm-autorate";
    return `${path}:${value.line}: option "${option}" is not read from \`config ` +
      `${section.type}\` (the Rust port package's section): ${hint}`;
  });
}

/** Unknown `SQMA_*` variables: warnings with what to use instead or a suggestion. */
function envWarnings(input: SettingsInput): string[] {
  const known = new Set<string>(SETTING_NAMES.flatMap((n) => {
    const spec: SettingSpec = SETTINGS_TABLE[n];
    const names = settingEnvNames(spec);
    return spec.serviceDefaultEnv === undefined ? names : [...names, spec.serviceDefaultEnv];
  }));
  return (input.envNames ?? [])
    .filter((name) => name.startsWith("SQMA_") && !known.has(name))
    .sort()
    .map((name) => {
      const hint = rustPortEnvHint(name, input);
      return hint !== undefined
        ? `env ${name}: not a setting, ignored: ${hint}`
        : `env ${name}: not a setting, ignored${didYouMean(name, known)}`;
    });
}

/** A setting given through two of its environment aliases: only one is used. */
function envAliasProblems(
  input: SettingsInput,
  problems: SettingProblem[],
  warnings: string[],
): void {
  for (const name of SETTING_NAMES) {
    const aliases = settingEnvNames(SETTINGS_TABLE[name]);
    if (aliases.length < 2) continue;
    const set = aliases.filter((a) => input.env?.(a) !== undefined);
    if (set.length < 2) continue;
    const values = set.map((a) => input.env!(a)!);
    const text = set.map((a, i) => `${a}="${values[i]}"`).join(" and ");
    if (values.every((x) => x === values[0])) {
      warnings.push(`${name}: both ${text} are set; set only one`);
    } else {
      problems.push({
        setting: name,
        source: { kind: "env", name: set[0] },
        value: values[0],
        message: `both ${text} are set to different values; set only one`,
      });
    }
  }
}

/** Misspelt UCI sections/options and unknown `SQMA_*` variables (`v` may hold defaults). */
export function sourceWarnings(input: SettingsInput, v: TableSettings): string[] {
  return [...uciWarnings(input, v), ...envWarnings(input)];
}

/** Problems and warnings found across settings. */
export interface Validation {
  /** Errors: the daemon would refuse or misbehave. */
  problems: SettingProblem[];
  /** Things probably not meant (misspellings), reported but not fatal. */
  warnings: string[];
}

/** Runs every cross-setting check on converted values. */
export function validateSettings(
  v: TableSettings,
  sources: Record<SettingName, SettingSource>,
  input: SettingsInput,
): Validation {
  const problems: SettingProblem[] = [];
  const warnings: string[] = [];
  const problem = (setting: SettingName, value: string, message: string) =>
    problems.push({ setting, source: sources[setting], value, message });

  const rc = ratecontrollerProblem(v.rate_controller);
  if (rc !== undefined) problem("rate_controller", v.rate_controller, rc);

  for (const setting of ["ul_if", "dl_if"] as const) {
    const name = v[setting];
    if (name === "") continue;
    const bad = ifnameProblem(name);
    if (bad !== undefined) problem(setting, name, bad);
  }
  if (v.ul_if !== "" && v.ul_if === v.dl_if) {
    problem(
      "dl_if",
      v.dl_if,
      `"${v.dl_if}" is also the upload interface; a shaper shapes what leaves an interface, so ` +
        "download needs its own (usually an IFB such as ifb4wan)",
    );
  }
  if (!v.suppress_statistics && v.stats_file === v.speedhist_file) {
    problem(
      "speedhist_file",
      v.speedhist_file,
      `"${v.speedhist_file}" is also stats_file; the two CSV files need different paths`,
    );
  }
  envAliasProblems(input, problems, warnings);
  problems.push(...dryRunProblems(input));
  warnings.push(...slowBaseRateWarnings(v, sources));
  warnings.push(...placeholderRateWarnings(v, sources, input.uci));
  warnings.push(...idleThresholdWarnings(v, sources));
  return { problems, warnings };
}
