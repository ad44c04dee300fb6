import * as z from "zod/mini";
import { acceptedText, schemaOf, tableSchema } from "./schema.ts";
import {
  SETTING_NAMES,
  type SettingName,
  SETTINGS_TABLE,
  type SettingSpec,
  type TableSettings,
} from "./settings_table.ts";
import { defaultValue, deriveSettings } from "./defaults.ts";
import type { Settings } from "./types.ts";
import type { UciFile } from "./uci.ts";
import {
  describeSource,
  type FlagValues,
  type SettingProblem,
  type SettingsInput,
  type SettingSource,
} from "./sources.ts";
import { sourceWarnings, validateSettings } from "./validate.ts";

export { describeSource };
export type { FlagValues, SettingProblem, SettingsInput, SettingSource };
import { uciGet } from "./uci.ts";
import { FALSE_WORDS, TRUE_WORDS } from "./bool_words.ts";
import { settingEnvNames } from "./rust_port.ts";
import { unitHint } from "./unit_hint.ts";

/** Invalid configuration; the CLI exits 78 (EX_CONFIG) with this message. */
export class ConfigError extends Error {
  /** Every problem found (all are reported, not just the first). */
  readonly problems: readonly SettingProblem[];

  /** Warnings found on the way (misspelt options, unknown variables), often the cause. */
  readonly warnings: readonly string[];

  /** Builds one line per problem. */
  constructor(problems: SettingProblem[], warnings: readonly string[] = []) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
    this.warnings = warnings;
  }
}

/** The effective settings with the source of every value. */
export interface ResolvedSettings {
  /** Typed, validated, derived settings. */
  settings: Settings;
  /** Source of each table setting. */
  sources: Record<SettingName, SettingSource>;
  /** Clamping notes (upstream clamps some settings with a warning). */
  warnings: string[];
  /** The UCI file the settings were read from, kept for plugins' own sections. */
  uci?: UciFile;
}

function formatProblem(p: SettingProblem): string {
  return `${p.setting} (${describeSource(p.source)}): ${p.message}`;
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

type Raw = string | string[] | boolean;

/** Every raw value given for one setting, highest precedence first, with its source. */
function rawValues(
  name: SettingName,
  spec: SettingSpec,
  input: SettingsInput,
): { raw: Raw; source: SettingSource }[] {
  const found: { raw: Raw; source: SettingSource }[] = [];
  const flag = input.flags?.[name];
  if (flag !== undefined) found.push({ raw: flag, source: { kind: "flag", flag: spec.flag } });
  for (const envName of settingEnvNames(spec)) {
    const v = input.env?.(envName);
    if (v !== undefined) {
      const raw = spec.kind === "list" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v;
      found.push({ raw, source: { kind: "env", name: envName } });
      break; // a second alias is envAliasProblems' business (validate.ts)
    }
  }
  if (input.uci && spec.uci) {
    const address = `@${spec.uci[0]}[0]`;
    const v = uciGet(input.uci, address, spec.uci[1]);
    if (v) {
      found.push({
        raw: v.value,
        source: {
          kind: "uci",
          path: input.uci.path,
          line: v.line,
          address: `${address}.${spec.uci[1]}`,
        },
      });
    }
  }
  // A service file's default: the owner's UCI option above wins (docs/operation.md, "Log priority").
  const serviceEnv = spec.serviceDefaultEnv;
  const service = serviceEnv === undefined ? undefined : input.env?.(serviceEnv);
  if (service !== undefined) {
    found.push({ raw: service, source: { kind: "env", name: serviceEnv! } });
  }
  return found;
}

/**
 * A value a higher-precedence source overrides is not used, but if it is invalid it will stop
 * the daemon the day the override goes (a flag dropped from a service file): a warning.
 */
function shadowedWarnings(
  name: SettingName,
  spec: SettingSpec,
  given: readonly { raw: Raw; source: SettingSource }[],
): string[] {
  return given.slice(1).flatMap((g) => {
    const r = convertValue(spec, g.raw);
    return r.ok ? [] : [
      `${name} (${describeSource(g.source)}): ${r.message}; overridden by ` +
      `${describeSource(given[0].source)}, but used without it`,
    ];
  });
}

type Converted = { ok: true; value: unknown; warning?: string } | { ok: false; message: string };

/** Converts a raw string (or list) to the setting's type and checks its range. */
export function convertValue(spec: SettingSpec, raw: Raw): Converted {
  const accepted = acceptedText(spec);
  if (spec.kind === "list") {
    const list = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
    if (list.some((s) => s.trim() === "")) {
      return { ok: false, message: `empty entry in list; expected ${accepted}` };
    }
    return { ok: true, value: list };
  }
  if (Array.isArray(raw)) {
    return { ok: false, message: `given as a list; expected ${accepted}` };
  }
  if (spec.kind === "boolean") {
    if (raw === true || raw === false) return { ok: true, value: raw };
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.includes(word)) return { ok: true, value: true };
    if (FALSE_WORDS.includes(word)) return { ok: true, value: false };
    return { ok: false, message: `"${raw}" is not ${accepted}` };
  }
  if (raw === true || raw === false) {
    return { ok: false, message: `needs a value; expected ${accepted}` };
  }
  const text = raw.trim();
  if (spec.kind === "number" || spec.kind === "integer") {
    if (text === "") return { ok: false, message: `empty value; expected ${accepted}` };
    if (!NUMBER_RE.test(text)) {
      const hint = unitHint(text, spec.unit);
      return { ok: false, message: `"${raw}" is not ${accepted}${hint ? ` (${hint})` : ""}` };
    }
    // Upstream floors integer settings (`math.floor(tonumber(v))`).
    let n = spec.kind === "integer" ? Math.floor(Number(text)) : Number(text);
    let warning: string | undefined;
    if (spec.clamp && spec.min !== undefined && spec.max !== undefined) {
      const clamped = Math.min(spec.max, Math.max(spec.min, n));
      if (clamped !== n) {
        warning = `${n} is outside ${spec.min}…${spec.max}; clamped to ${clamped} (as upstream)`;
        n = clamped;
      }
    }
    const check = schemaOf(spec).safeParse(n);
    if (!check.success) {
      return { ok: false, message: `${raw.trim()} is out of range; expected ${accepted}` };
    }
    return { ok: true, value: n, warning };
  }
  if (spec.kind === "enum") {
    const given = spec.upperCase ? text.toUpperCase() : text.toLowerCase();
    const v = spec.choiceAliases?.[given] ?? given;
    if (v === "") return { ok: false, message: `empty value; expected ${accepted}` };
    if (!spec.choices?.includes(v)) return { ok: false, message: `"${raw}" is not ${accepted}` };
    return { ok: true, value: v };
  }
  if (spec.required && text === "") {
    return { ok: false, message: `empty value; expected ${accepted}` };
  }
  if (spec.pattern && !spec.pattern.re.test(text)) {
    return { ok: false, message: `"${raw}" is not ${accepted}` };
  }
  return { ok: true, value: text };
}

/** How a user can set a setting, for "is required" messages. */
export function howToSet(name: SettingName): string {
  const spec: SettingSpec = SETTINGS_TABLE[name];
  const uci = spec.uci ? `, or option ${spec.uci[1]} in \`config ${spec.uci[0]}\`` : "";
  return `--${spec.flag}, ${spec.env[0]}${uci}`;
}

/**
 * Resolves every setting from flags, env, UCI and defaults (in that precedence), converts and
 * validates each. Throws `ConfigError` listing every problem. With `requireDaemon`, the settings
 * the daemon cannot run without must be set.
 */
export function resolveSettings(
  input: SettingsInput,
  options: { requireDaemon?: boolean } = {},
): ResolvedSettings {
  const values: Record<string, unknown> = {};
  const sources = {} as Record<SettingName, SettingSource>;
  const problems: SettingProblem[] = [];
  const warnings: string[] = [];
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = SETTINGS_TABLE[name];
    const given = rawValues(name, spec, input);
    const found = given[0];
    warnings.push(...shadowedWarnings(name, spec, given));
    if (!found) {
      values[name] = defaultValue(name);
      sources[name] = { kind: "default" };
      if (spec.required && options.requireDaemon) {
        problems.push({
          setting: name,
          source: { kind: "unset" },
          value: "",
          message: `is required: set ${howToSet(name)}`,
        });
      }
      continue;
    }
    sources[name] = found.source;
    const result = convertValue(spec, found.raw);
    if (!result.ok) {
      problems.push({
        setting: name,
        source: found.source,
        value: String(found.raw),
        message: result.message,
      });
      continue;
    }
    if (result.warning) {
      warnings.push(`${name} (${describeSource(found.source)}): ${result.warning}`);
    }
    values[name] = result.value;
  }
  // Misspellings are reported even when values are bad: they are often the reason.
  warnings.push(...sourceWarnings(input, { ...defaultsOf(), ...values } as TableSettings));
  if (problems.length === 0) {
    crossCheck(values as TableSettings, sources, problems);
    checkRemoteHost(values as TableSettings, sources, problems);
    const validation = validateSettings(values as TableSettings, sources, input);
    problems.push(...validation.problems);
    warnings.push(...validation.warnings);
  }
  if (problems.length > 0) throw new ConfigError(problems, warnings);
  // Every given value once more through the derived zod schema: a last guard that the table and
  // the conversions agree. (Unset required settings keep their 0/"" placeholder defaults.)
  const given = SETTING_NAMES.filter((n) => sources[n].kind !== "default");
  z.partial(tableSchema).parse(Object.fromEntries(given.map((n) => [n, values[n]])));
  return {
    settings: deriveSettings(values as TableSettings),
    sources,
    warnings,
    uci: input.uci,
  };
}

function defaultsOf(): Record<string, unknown> {
  return Object.fromEntries(SETTING_NAMES.map((n) => [n, defaultValue(n)]));
}

/** Checks between settings: a cap below the minimum rate makes no sense. */
function crossCheck(
  v: TableSettings,
  sources: Record<SettingName, SettingSource>,
  problems: SettingProblem[],
): void {
  const derived = deriveSettings(v);
  for (const dir of ["ul", "dl"] as const) {
    const cap = v[`max_${dir}_rate`];
    const min = derived[`min_${dir}_rate`];
    if (cap > 0 && cap < min) {
      problems.push({
        setting: `max_${dir}_rate`,
        source: sources[`max_${dir}_rate`],
        value: String(cap),
        message:
          `${cap} kbit/s is below the minimum rate ${min} kbit/s; use 0 (no cap) or ≥ ${min}`,
      });
    }
  }
}

/**
 * `remote` is handed to ssh as its destination: `[user@]host` with nothing ssh could read as an
 * option (a leading `-`) or split (whitespace).
 */
function checkRemoteHost(
  v: TableSettings,
  sources: Record<SettingName, SettingSource>,
  problems: SettingProblem[],
): void {
  if (
    v.remote === "" || /^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9_.:-]+$/.test(v.remote) &&
      !/^-|@-/.test(v.remote)
  ) return;
  problems.push({
    setting: "remote",
    source: sources.remote,
    value: v.remote,
    message: "expected [user@]host (e.g. root@192.168.1.1): letters, digits, '.', '-', '_', ':' " +
      "and one '@', not starting with '-'",
  });
}
