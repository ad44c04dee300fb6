/**
 * Finds the text of a Lua script from a setting value: `builtin:<name>` (shipped inside the
 * binary), a path (contains `/` or ends in `.lua`), or an upstream-style module name resolved
 * like `require` in upstream's install directories, falling back to a shipped script.
 */
import { EMBEDDED_SCRIPTS } from "./embedded_scripts.ts";
import { ScriptNotFoundError } from "./errors.ts";
import { errorText } from "../util/error_text.ts";
import { closestMatch, didYouMean } from "../util/suggest.ts";

/**
 * Where module names (`plugin_ratecontrol = log_readings`) are looked up, in order: the user's
 * directory, then upstream's install directory (both readable under the daemon's manifest).
 */
export const MODULE_DIRS: readonly string[] = ["/etc/sqm-autorate", "/usr/lib/sqm-autorate"];

/** A script ready to compile. */
export interface ScriptSource {
  /** The setting value it came from. */
  ref: string;
  /** How messages name it: the path, or `builtin:<name>`. */
  display: string;
  /** The script text. */
  source: string;
}

/** Options for {@link resolveScript}. */
export interface ResolveOptions {
  /** Reads a file (default `Deno.readTextFile`). */
  readTextFile?: (path: string) => Promise<string>;
  /** Module-name search directories (default {@link MODULE_DIRS}). */
  moduleDirs?: readonly string[];
  /** The setting the reference came from, named by a not-found message (e.g. `plugin_scripts`). */
  setting?: string;
  /**
   * Names of the files in a directory, for a "did you mean" (default `Deno.readDir`; none when it
   * cannot be read).
   */
  listDir?: (dir: string) => Promise<string[]>;
}

/** The names in `dir`, or none when it cannot be read (missing, or outside the permission set). */
async function readDirNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch {
    // nothing to suggest from here
  }
  return names;
}

/**
 * The Lua file closest to `rel` among those a search finds: `.lua` files in each of `dirs` (in
 * `rel`'s subdirectory of it), then the shipped scripts; `rel` is that file as the search names it
 * (`log_readings.lua`) and `where` where it is (its path, or `builtin:<name>`). Undefined when none
 * is close (src/util/suggest.ts).
 */
async function closeScript(
  rel: string,
  o: { dirs: readonly string[]; list: (dir: string) => Promise<string[]> },
): Promise<{ rel: string; where: string } | undefined> {
  const sub = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/") + 1) : "";
  const found = new Map<string, string>();
  for (const dir of o.dirs) {
    for (const name of (await o.list(`${dir}/${sub}`)).sort()) {
      if (name.endsWith(".lua") && !found.has(`${sub}${name}`)) {
        found.set(`${sub}${name}`, `${dir}/${sub}${name}`);
      }
    }
  }
  for (const name of builtinNames()) {
    if (!found.has(`${name}.lua`)) found.set(`${name}.lua`, `builtin:${name}`);
  }
  const close = closestMatch(rel, found.keys());
  return close === undefined ? undefined : { rel: close, where: found.get(close)! };
}

export { ScriptNotFoundError };

/** Names of the shipped scripts (`builtin:<name>`). */
export function builtinNames(): string[] {
  return Object.keys(EMBEDDED_SCRIPTS).sort();
}

function builtin(ref: string, name: string): ScriptSource | undefined {
  const s = EMBEDDED_SCRIPTS[name];
  if (s === undefined) return undefined;
  const display = `builtin:${name}`;
  return { ref, display, source: s.source };
}

/**
 * A file's text as Lua's own loader (`luaL_loadfilex`, behind `require` and `lua FILE`) reads it:
 * a UTF-8 byte-order mark (an editor on Windows) is skipped, and a first line starting with `#` (a
 * `#!/usr/bin/lua` line) is read as empty, so line numbers stay those of the file. `load` of the
 * text as it stands refused both ("unexpected symbol near '<\239>'", "near '#'") until the
 * thirtieth session (docs/plugins.md, "Lua 5.1 compatibility").
 */
export function asLuaFile(text: string): string {
  const t = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (!t.startsWith("#")) return t;
  const nl = t.indexOf("\n");
  return nl < 0 ? "" : t.slice(nl);
}

/** Resolves and reads one script reference. Throws {@link ScriptNotFoundError}. */
export async function resolveScript(
  ref: string,
  options: ResolveOptions = {},
): Promise<ScriptSource> {
  const read = options.readTextFile ?? ((p: string) => Deno.readTextFile(p));
  const value = ref.trim();
  const setting = options.setting === undefined ? "" : `${options.setting}: `;
  const list = options.listDir ?? readDirNames;
  if (value.startsWith("builtin:")) {
    const found = builtin(ref, value.slice("builtin:".length));
    if (found) return found;
    throw new ScriptNotFoundError(
      `${setting}no shipped Lua script "${value}"${
        didYouMean(value.slice("builtin:".length), builtinNames())
      }; available: ${builtinNames().map((n) => `builtin:${n}`).join(", ")}`,
    );
  }
  // A file name without a directory (`pretty_speeds.lua`, as upstream's README has owners copy it
  // to /usr/lib/sqm-autorate) is looked for where module names are: read as it stands it was a
  // path relative to the daemon's working directory, `/`, and failed with a permission error.
  if (value.includes("/")) {
    try {
      return { ref, display: value, source: asLuaFile(await read(value)) };
    } catch (e) {
      const dir = value.slice(0, value.lastIndexOf("/"));
      const close = e instanceof Deno.errors.NotFound
        ? await closeScript(value.slice(dir.length + 1), { dirs: [dir], list })
        : undefined;
      const hint = close === undefined ? "" : ` (did you mean ${close.where}?)`;
      throw new ScriptNotFoundError(
        `${setting}cannot read Lua script ${value}: ${errorText(e)}${hint}`,
      );
    }
  }
  // An upstream module name: dots are directory separators, as for require.
  const rel = value.endsWith(".lua") ? value : value.replaceAll(".", "/") + ".lua";
  const dirs = options.moduleDirs ?? MODULE_DIRS;
  for (const dir of dirs) {
    const path = `${dir}/${rel}`;
    try {
      return { ref, display: path, source: asLuaFile(await read(path)) };
    } catch {
      // not there (or not readable with the daemon's permissions): try the next place
    }
  }
  const shipped = builtin(ref, value) ?? builtin(ref, value.replaceAll("-", "_"));
  if (shipped) return shipped;
  // Spelt as the value is: a file name, or a module name (`log_readings`, `sub.name`).
  const close = await closeScript(rel, { dirs, list });
  const spelt = close === undefined
    ? ""
    : value.endsWith(".lua")
    ? close.rel
    : close.rel.slice(0, -".lua".length).replaceAll("/", ".");
  const hint = close === undefined ? "" : ` (did you mean "${spelt}": ${close.where}?)`;
  throw new ScriptNotFoundError(
    `${setting}Could not find configured plugin: ${value} (tried ${
      dirs.map((d) => `${d}/${rel}`).join(", ")
    } and builtin:${value})${hint}; put upstream's ${rel} in ${dirs[0]}/ or use a shipped plugin (${
      builtinNames().filter((n) => EMBEDDED_SCRIPTS[n].path.startsWith("lua/plugins/"))
        .map((n) => `builtin:${n}`).join(", ")
    })`,
  );
}
