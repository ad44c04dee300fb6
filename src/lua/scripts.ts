/**
 * Finds the text of a Lua script from a setting value: `builtin:<name>` (shipped inside the
 * binary), a path (contains `/` or ends in `.lua`), or an upstream-style module name resolved
 * like `require` in upstream's install directories, falling back to a shipped script.
 */
import { EMBEDDED_SCRIPTS } from "./embedded_scripts.ts";
import { ScriptNotFoundError } from "./errors.ts";
import { errorText } from "../util/error_text.ts";

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

/** Resolves and reads one script reference. Throws {@link ScriptNotFoundError}. */
export async function resolveScript(
  ref: string,
  options: ResolveOptions = {},
): Promise<ScriptSource> {
  const read = options.readTextFile ?? ((p: string) => Deno.readTextFile(p));
  const value = ref.trim();
  if (value.startsWith("builtin:")) {
    const found = builtin(ref, value.slice("builtin:".length));
    if (found) return found;
    throw new ScriptNotFoundError(
      `no shipped Lua script "${value}"; available: ${
        builtinNames().map((n) => `builtin:${n}`).join(", ")
      }`,
    );
  }
  // A file name without a directory (`pretty_speeds.lua`, as upstream's README has owners copy it
  // to /usr/lib/sqm-autorate) is looked for where module names are: read as it stands it was a
  // path relative to the daemon's working directory, `/`, and failed with a permission error.
  if (value.includes("/")) {
    try {
      return { ref, display: value, source: await read(value) };
    } catch (e) {
      throw new ScriptNotFoundError(`cannot read Lua script ${value}: ${errorText(e)}`);
    }
  }
  // An upstream module name: dots are directory separators, as for require.
  const rel = value.endsWith(".lua") ? value : value.replaceAll(".", "/") + ".lua";
  const dirs = options.moduleDirs ?? MODULE_DIRS;
  for (const dir of dirs) {
    const path = `${dir}/${rel}`;
    try {
      return { ref, display: path, source: await read(path) };
    } catch {
      // not there (or not readable with the daemon's permissions): try the next place
    }
  }
  const shipped = builtin(ref, value) ?? builtin(ref, value.replaceAll("-", "_"));
  if (shipped) return shipped;
  throw new ScriptNotFoundError(
    `Could not find configured plugin: ${value} (tried ${
      dirs.map((d) => `${d}/${rel}`).join(", ")
    } and builtin:${value}); put upstream's ${rel} in ${dirs[0]}/ or use a shipped plugin (${
      builtinNames().filter((n) => EMBEDDED_SCRIPTS[n].path.startsWith("lua/plugins/"))
        .map((n) => `builtin:${n}`).join(", ")
    })`,
  );
}
