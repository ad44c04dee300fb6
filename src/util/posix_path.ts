/**
 * POSIX path helpers (the subset of `node:path` this project uses), so that the daemon's code
 * does not load Deno's Node compatibility layer (docs/footprint.md). Same results as
 * `node:path`'s posix functions; posix_path_test.ts compares them.
 */

/** Whether `path` starts at the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** Resolves `.`, `..` and repeated slashes; keeps one trailing slash; `""` → `"."`. */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = isAbsolute(path);
  const trailing = path.endsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts.at(-1) !== "..") parts.pop();
      else if (!absolute) parts.push("..");
    } else {
      parts.push(part);
    }
  }
  let out = parts.join("/");
  if (absolute) return "/" + out + (trailing && out !== "" ? "/" : "");
  if (out === "") out = ".";
  return trailing ? out + "/" : out;
}

/** Joins the non-empty segments with `/` and normalises the result. */
export function join(...segments: readonly string[]): string {
  const joined = segments.filter((s) => s !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/** An absolute, normalised path: the last absolute segment onward, else from the working dir. */
export function resolve(...segments: readonly string[]): string {
  let path = "";
  for (let i = segments.length - 1; i >= 0 && !isAbsolute(path); i--) {
    if (segments[i] === "") continue;
    path = path === "" ? segments[i] : `${segments[i]}/${path}`;
  }
  if (!isAbsolute(path)) path = path === "" ? Deno.cwd() : `${Deno.cwd()}/${path}`;
  const out = normalize(path);
  return out.length > 1 && out.endsWith("/") ? out.slice(0, -1) : out;
}

/** The last component, trailing slashes ignored. */
export function basename(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  const trimmed = path.slice(0, end);
  if (trimmed === "/") return "";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** All but the last component, trailing slashes ignored (`"."` when there is no slash). */
export function dirname(path: string): string {
  if (path === "") return ".";
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  const slash = path.lastIndexOf("/", end - 1);
  if (slash < 1) return isAbsolute(path) ? "/" : ".";
  // A path starting with exactly two slashes keeps them, as POSIX allows (and node:path does).
  if (slash === 1 && isAbsolute(path)) return "//";
  return path.slice(0, slash);
}
