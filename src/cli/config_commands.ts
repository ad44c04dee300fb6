import {
  describeSource,
  howToSet,
  SETTING_NAMES,
  SETTINGS_TABLE,
  type SettingSpec,
} from "../config/mod.ts";
import type { Settings } from "../config/types.ts";
import { ExitCode } from "../util/exit_codes.ts";
import type { CliContext } from "./io.ts";
import { pluginSectionsFrom, usesLua } from "../lua/config.ts";
import { loadLua } from "../lua/load.ts";
import { configureLogging, formatRecord, resetLogging } from "../log/mod.ts";
import { manifestConfigCheck } from "../release/manifest_check.ts";
import { settingsFromArgs } from "./settings_options.ts";
import type { ParsedArgs } from "./args.ts";
import { checkRemoteSetup } from "../remote/mod.ts";
import type { ConfigCheck } from "../config/check.ts";
import { checkReflectorList } from "../reflectors/list_check.ts";
import { isRemote } from "../remote/mod.ts";
import { localShaperWarnings } from "../apply/shaper_check.ts";
import { INTERFACE_WAIT } from "../daemon/mod.ts";
import { statsPathWarnings } from "../report/stats_paths.ts";
import { choosePinger } from "../measure/backends.ts";

/**
 * Every configured Lua script (plugins, a Lua rate_controller) must load and survive one
 * synthetic tick; the scripts' log lines are shown on stderr.
 */
const luaScriptsCheck: ConfigCheck = async (resolved, io) => {
  if (!usesLua(resolved.settings)) return { problems: [] };
  const { checkScripts } = await loadLua();
  configureLogging(resolved.settings.log_level, {
    sink: (record) => io?.err(formatRecord(record)),
  });
  try {
    return {
      problems: await checkScripts(resolved.settings, {
        pluginSections: pluginSectionsFrom(resolved.uci),
      }),
      exitCode: ExitCode.DATA,
    };
  } finally {
    resetLogging();
  }
};

/** With `remote` set, the router answers over ssh and has the shapers and counters. */
const remoteCheck: ConfigCheck = async (resolved) => ({
  problems: await checkRemoteSetup(resolved.settings),
  exitCode: ExitCode.UNAVAILABLE,
});

/**
 * Without `remote`, the interfaces and root qdiscs `run` would shape here: warnings (the file may
 * be meant for another machine), each saying what `run` would do.
 */
const localShapersCheck: ConfigCheck = async (resolved) => ({
  problems: [],
  warnings: isRemote(resolved.settings)
    ? []
    : await localShaperWarnings(resolved.settings, INTERFACE_WAIT),
});

/** The reflector list must be readable and hold usable reflectors (`run` checks the same). */
const reflectorListCheck: ConfigCheck = async (resolved) => {
  const { problems, warnings } = await checkReflectorList(resolved.settings);
  return { problems, warnings };
};

/**
 * The pinger `run` would pick must run here, or `run` exits 69 at once: a warning, as for the
 * interfaces, since the file may be meant for another machine.
 */
const pingerCheck: ConfigCheck = async (resolved) => {
  const { pinger, pinger_binary } = resolved.settings;
  try {
    await choosePinger(pinger, { binary: pinger_binary || undefined, quiet: true });
    return { problems: [] };
  } catch (e) {
    const message = (e as Error).message;
    return { problems: [], warnings: [`pinger "${pinger}": ${message}; here run exits 69`] };
  }
};

/**
 * A statistics file that is a directory takes no rows, one that cannot be written neither: a
 * warning (`run` gives the first too; the second it finds at its first write).
 */
const statsPathsCheck: ConfigCheck = async (resolved) => ({
  problems: [],
  warnings: await statsPathWarnings(resolved.settings, { writable: true }),
});

/** The checks `check-config` runs after the settings resolve. */
const checks: readonly ConfigCheck[] = [
  reflectorListCheck,
  pingerCheck,
  statsPathsCheck,
  luaScriptsCheck,
  manifestConfigCheck,
  remoteCheck,
  localShapersCheck,
];

function show(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.join(",") : "(none)";
  if (value === "") return "(empty)";
  return String(value);
}

/** `check-config`: prints every effective setting with its source; 0 or 78 (or a check's code). */
export async function checkConfigAction(args: ParsedArgs, ctx: CliContext): Promise<number> {
  // A configuration error propagates to runCli, which prints it and exits 78.
  const resolved = settingsFromArgs(args, { requireDaemon: true });
  const rows = SETTING_NAMES.map((
    n,
  ) => [n, show(resolved.settings[n]), describeSource(resolved.sources[n])]);
  rows.push(["min_ul_rate", show(resolved.settings.min_ul_rate), "derived"]);
  rows.push(["min_dl_rate", show(resolved.settings.min_dl_rate), "derived"]);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const lines = rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`);
  ctx.io.out(`${"setting".padEnd(w0)}  ${"value".padEnd(w1)}  source\n${lines.join("\n")}\n`);
  for (const w of resolved.warnings) ctx.io.err(`warning: ${w}\n`);
  let exitCode: number = ExitCode.OK;
  for (const check of checks) {
    const result = await check(resolved, ctx.io);
    for (const w of result.warnings ?? []) ctx.io.err(`warning: ${w}\n`);
    for (const p of result.problems) ctx.io.err(`error: ${p}\n`);
    if (result.problems.length > 0 && exitCode === ExitCode.OK) {
      exitCode = result.exitCode ?? ExitCode.CONFIG;
    }
  }
  ctx.io.err(exitCode === ExitCode.OK ? "configuration OK\n" : "configuration has errors\n");
  return exitCode;
}

function luaType(value: unknown): string {
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  if (Array.isArray(value)) return "table";
  return "string";
}

/** Upstream's `--show-settings`: `name: value (type)`, sorted by name. */
export function formatShowSettings(settings: Settings): string {
  const entries = Object.entries(settings).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  return entries.map(([k, v]) => `${k}: ${show(v)} (${luaType(v)})`).join("\n") + "\n";
}

/**
 * `show-settings`: prints the settings as upstream does; 0, or 78 on a bad value or when a
 * setting the daemon needs is not set (printed anyway, so the rest can be inspected).
 */
export function showSettingsAction(args: ParsedArgs, ctx: CliContext): number {
  const resolved = settingsFromArgs(args);
  ctx.io.out(formatShowSettings(resolved.settings));
  for (const w of resolved.warnings) ctx.io.err(`warning: ${w}\n`);
  const missing = SETTING_NAMES.filter((n) => {
    const spec: SettingSpec = SETTINGS_TABLE[n];
    return spec.required === true && resolved.sources[n].kind === "default";
  });
  for (const n of missing) {
    ctx.io.err(`error: ${n} is required: set ${howToSet(n)}\n`);
  }
  return missing.length > 0 ? ExitCode.CONFIG : ExitCode.OK;
}
