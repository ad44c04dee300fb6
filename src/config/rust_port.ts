/**
 * What an owner of the Rust port (sqm-autorate-rust) brings along and this daemon reads
 * differently (docs/install.md, "Coming from upstream or the Rust port"): its nested environment
 * names, its older kbit/s minimums, its `dry_run` and its metrics export. Pure: the UCI file and
 * the environment are inputs.
 */
import type { SettingSpec } from "./settings_table.ts";
import type { SettingProblem, SettingsInput } from "./sources.ts";
import { uciGet } from "./uci.ts";
import { TRUE_WORDS } from "./bool_words.ts";

/**
 * The Rust port's later name of a UCI option in the environment: `SQMA_` + section + `__` +
 * option, upper-cased (`SQMA_NETWORK__UPLOAD_INTERFACE` for `@network[0].upload_interface`).
 */
export function nestedEnvName(section: string, option: string): string {
  return `SQMA_${section.toUpperCase()}__${option.toUpperCase()}`;
}

/** Every environment name a setting is read from: its own, then the Rust port's nested one. */
export function settingEnvNames(spec: SettingSpec): readonly string[] {
  return spec.uci === undefined ? spec.env : [...spec.env, nestedEnvName(...spec.uci)];
}

/** The Rust port's first variables for the minimum rates, in kbit/s, and what replaced them. */
const MIN_KBITS_ENV: Readonly<Record<string, readonly [percent: string, base: string]>> = {
  SQMA_UPLOAD_MIN_KBITS: ["SQMA_UPLOAD_MIN_PERCENT", "SQMA_UPLOAD_BASE_KBITS"],
  SQMA_DOWNLOAD_MIN_KBITS: ["SQMA_DOWNLOAD_MIN_PERCENT", "SQMA_DOWNLOAD_BASE_KBITS"],
};

function positive(text: string | undefined): number | undefined {
  const n = text === undefined ? NaN : Number(text);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The hint for the Rust port's `SQMA_*_MIN_KBITS`, or undefined for any other name. */
export function minKbitsEnvHint(name: string, input: SettingsInput): string | undefined {
  const to = MIN_KBITS_ENV[name];
  if (to === undefined) return undefined;
  const min = positive(input.env?.(name));
  const section = nestedEnvName("network", to[1].slice("SQMA_".length));
  const base = positive(input.env?.(to[1]) ?? input.env?.(section));
  const example = min !== undefined && base !== undefined
    ? `: ${min} of ${base} kbit/s is ${to[0]}=${Math.round((min / base) * 100)}`
    : "";
  return `the Rust port's minimum in kbit/s; now ${to[0]}, a percentage of ${to[1]} ` +
    `(1-80)${example}`;
}

const DRY_RUN_ENV = nestedEnvName("advanced_settings", "dry_run");

/**
 * The single section the Rust port's later OpenWrt package writes into /etc/config/sqm-autorate
 * (`config sqm-autorate 'main'`): the same option names, which are read here from
 * `config network` and `config output`; its `testing '1'` is a monitoring mode (no shaping).
 */
export const RUST_PACKAGE_SECTION = "sqm-autorate";

/** The Rust port's UCI options asking for no shaping: `dry_run`, its package's `testing`. */
const NO_SHAPING_OPTIONS = [
  ["advanced_settings", "dry_run"],
  [RUST_PACKAGE_SECTION, "testing"],
] as const;

/** The hint for the package section's `testing` option. */
export const TESTING_HINT = "the Rust port package's monitoring mode (never change the shaper) " +
  "does not exist here: a true one is refused, a false one changes nothing; remove it";

/** What the Rust port's `dry_run` is, for its warning (uci_renamed.ts and the env's). */
export const DRY_RUN_HINT = "the Rust port's dry run (measure, never change the shaper) does " +
  "not exist here: a true one is refused, a false one changes nothing; remove it";

/** The hint for the Rust port's `config observability` and `SQMA_OBSERVABILITY__*`. */
export const OBSERVABILITY_HINT = "the Rust port's metrics export is not read here; use " +
  "metrics_listen (Prometheus /metrics) or mqtt_url in `config output` (docs/observability.md)";

/** The hint for an unknown `SQMA_*` name that is one of the Rust port's, or undefined. */
export function rustPortEnvHint(name: string, input: SettingsInput): string | undefined {
  if (name === DRY_RUN_ENV) return DRY_RUN_HINT;
  if (name.startsWith(nestedEnvName("observability", ""))) return OBSERVABILITY_HINT;
  return minKbitsEnvHint(name, input);
}

/**
 * A true `dry_run` (the Rust port's, in the UCI file or its env name) or its package's `testing`:
 * this daemon has no dry run and would change the shaper the owner asked it to leave alone, so it
 * refuses to start.
 */
export function dryRunProblems(input: SettingsInput): SettingProblem[] {
  const found: { value: string; source: SettingProblem["source"] }[] = [];
  const env = input.env?.(DRY_RUN_ENV);
  if (env !== undefined) found.push({ value: env, source: { kind: "env", name: DRY_RUN_ENV } });
  const uci = input.uci;
  if (uci) {
    for (const [section, option] of NO_SHAPING_OPTIONS) {
      const address = `@${section}[0]`;
      const set = uciGet(uci, address, option);
      if (!set || typeof set.value !== "string") continue;
      found.push({
        value: set.value,
        source: { kind: "uci", path: uci.path, line: set.line, address: `${address}.${option}` },
      });
    }
  }
  return found.filter((f) => TRUE_WORDS.includes(f.value.trim().toLowerCase())).map((f) => ({
    setting: "dry_run",
    source: f.source,
    value: f.value,
    message: `"${f.value}": the Rust port's dry run (never change the shaper) does not exist ` +
      "here and this daemon changes the shaper; remove it to shape, or try the settings in " +
      "`sqm-autorate simulate` first (docs/simulator.md)",
  }));
}
