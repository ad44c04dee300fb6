/**
 * What a restart of `run` reads, and whether two such readings differ (docs/operation.md, "A
 * SIGHUP with nothing changed"): the effective settings, the UCI sections Lua scripts can read
 * (`settings.plugin(type)`), and the files the start-up reads, recorded through the loaders the
 * start-up itself uses (the reflector list through `loadPool`, each Lua script, a ratecontroller
 * and the plugins, through `resolveScript`, module names looked up in the same places). A SIGHUP
 * whose reading equals the running daemon's keeps that daemon as it is; any difference, a plugin
 * script edited with the settings unchanged included, restarts it.
 */
import type { ResolvedSettings } from "../config/resolve.ts";
import type { Settings } from "../config/types.ts";
import type { UciFile } from "../config/uci.ts";
import { uciGetAll } from "../config/uci.ts";
import { settingUciOptions } from "../config/settings_table.ts";
import { isLuaRatecontroller } from "../config/ratecontroller_names.ts";
import { usesLua } from "../lua/config.ts";
import { pluginRefs } from "../lua/plugin_refs.ts";
import { loadPool } from "../reflectors/pool.ts";
import { errorText } from "../util/error_text.ts";

/** One file as the start-up would find it: its text, or why it could not be read. */
export type FileRead = { text: string } | { error: string };

/** Everything a restart with one configuration reads. */
export interface RestartInputs {
  /** The effective settings. */
  settings: Settings;
  /**
   * `settings.plugin(type)` for each section type of the UCI file (as JSON, option names
   * sorted), when Lua scripts run: they can read any of them; empty otherwise.
   */
  sections: Map<string, string>;
  /** Every file the start-up reads, by path, in the order it reads them. */
  files: Map<string, FileRead>;
  /** The paths each Lua script reference read while it was looked up (none for `builtin:`). */
  scripts: Map<string, string[]>;
}

/** Options of {@linkcode restartInputs}. */
export interface RestartInputsOptions {
  /** Reads a file (default `Deno.readTextFile`). */
  readTextFile?: (path: string) => Promise<string>;
  /** Module-name search directories of `resolveScript` (default its `MODULE_DIRS`). */
  moduleDirs?: readonly string[];
}

/**
 * Reads what a restart with `resolved` would read. Take it before the start-up reads the same
 * files: a file edited in between then differs at the next SIGHUP and restarts (harmless),
 * rather than being taken for the one running.
 */
export async function restartInputs(
  resolved: ResolvedSettings,
  options: RestartInputsOptions = {},
): Promise<RestartInputs> {
  const settings = resolved.settings;
  const files = new Map<string, FileRead>();
  const scripts = new Map<string, string[]>();
  let paths: string[] = [];
  const read = options.readTextFile ?? ((p: string) => Deno.readTextFile(p));
  const recording = async (path: string) => {
    paths.push(path);
    try {
      const text = await read(path);
      files.set(path, { text });
      return text;
    } catch (e) {
      files.set(path, { error: errorText(e) });
      throw e;
    }
  };
  // What the loaders make of the text (a list without reflectors, a script not found) is the
  // start-up's and the SIGHUP check's business; here only what they read counts.
  await loadPool(settings.reflector_list_file, { readTextFile: recording }).catch(() => {});
  const refs = luaScriptRefs(settings);
  if (refs.length > 0) {
    // Imported only with Lua configured: the shipped scripts' text stays out of a daemon without
    // Lua, as the engine does (src/lua/config.ts).
    const { resolveScript } = await import("../lua/scripts.ts");
    for (const ref of refs) {
      paths = [];
      await resolveScript(ref, { readTextFile: recording, moduleDirs: options.moduleDirs })
        .catch(() => {});
      scripts.set(ref, paths);
    }
  }
  return {
    settings,
    sections: usesLua(settings) ? scriptSections(resolved.uci) : new Map(),
    files,
    scripts,
  };
}

/**
 * True when the script `ref` is configured in both readings and reads the same files with the same
 * text in both (a `builtin:` script always): a restart runs it exactly as `a`'s start did.
 */
export function sameScript(a: RestartInputs, b: RestartInputs, ref: string): boolean {
  const pa = a.scripts.get(ref);
  const pb = b.scripts.get(ref);
  if (pa === undefined || pb === undefined || pa.join("\n") !== pb.join("\n")) return false;
  return pb.every((path) => {
    const x = a.files.get(path);
    const y = b.files.get(path);
    return x !== undefined && y !== undefined && sameRead(x, y);
  });
}

/**
 * What differs between two readings, named for the log: setting names, `section TYPE` (read by
 * Lua scripts), file paths. Empty when a restart would run the same configuration again.
 */
export function restartChanges(a: RestartInputs, b: RestartInputs): string[] {
  const settings = (Object.keys(b.settings) as (keyof Settings)[]).filter((k) =>
    JSON.stringify(a.settings[k]) !== JSON.stringify(b.settings[k])
  );
  return [
    ...settings,
    ...changedKeys(a.sections, b.sections, (x, y) => x === y).map((t) => `section ${t}`),
    ...changedKeys(a.files, b.files, sameRead),
  ];
}

/** The Lua scripts a start-up loads: a Lua ratecontroller, then the plugins in run order. */
function luaScriptRefs(settings: Settings): string[] {
  const rc = settings.rate_controller.trim();
  return [...(isLuaRatecontroller(rc) ? [rc] : []), ...pluginRefs(settings)];
}

/**
 * `settings.plugin(type)` of every section type in `uci`, as JSON with sorted option names, less
 * what a script is given otherwise or that says only where the section stands: the options that
 * are settings (compared as the effective settings, which scripts get in `settings`; an edit
 * that a flag or variable overrides changes nothing), `.index`, and an anonymous section's
 * `.name` (libuci's `cfgNNNNNN`, numbered by position). Moving a section, or an option overridden
 * elsewhere, thus restarts nothing (docs/operation.md, "A SIGHUP with nothing changed").
 */
function scriptSections(uci: UciFile | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const settingOptions = settingUciOptions();
  for (const { type } of uci?.sections ?? []) {
    if (out.has(type)) continue;
    const options = uciGetAll(uci!, `@${type}[0]`) ?? {};
    const positional = new Set([".index", ...(options[".anonymous"] === true ? [".name"] : [])]);
    const read = Object.entries(options)
      .filter(([k]) => !positional.has(k) && !settingOptions.get(type)?.has(k))
      .sort(([x], [y]) => x < y ? -1 : 1);
    out.set(type, JSON.stringify(read));
  }
  return out;
}

/** Keys present in one map only or with values that differ, in `b`'s order then `a`'s. */
function changedKeys<V>(
  a: Map<string, V>,
  b: Map<string, V>,
  same: (x: V, y: V) => boolean,
): string[] {
  const keys = new Set([...b.keys(), ...a.keys()]);
  return [...keys].filter((k) => !a.has(k) || !b.has(k) || !same(a.get(k)!, b.get(k)!));
}

function sameRead(x: FileRead, y: FileRead): boolean {
  return "text" in x ? "text" in y && x.text === y.text : "error" in y && x.error === y.error;
}
