/**
 * A reader for OpenWrt UCI configuration files (docs/formats.md §1.1), written for the format so the
 * daemon reads `/etc/config/sqm-autorate` exactly as upstream does, without the `uci` library.
 */

/** One option or list of a section, with the line it was (last) set on. */
export interface UciValue {
  /** A string for `option`, an array for `list`. */
  value: string | string[];
  /** 1-based line of the last `option`/`list` line that set it. */
  line: number;
  /** The comment after the value on that line (`# …`, without the `#`), if any. */
  comment?: string;
}

/** One `config` section. */
export interface UciSection {
  /** Section type (`config TYPE`). */
  type: string;
  /** Section name, or a generated `cfgNNNNNN` id for anonymous sections. */
  name: string;
  /** True when the file gave no name. */
  anonymous: boolean;
  /** Index among the sections of the same type, from 0 in file order. */
  index: number;
  /** 1-based line of the `config` keyword. */
  line: number;
  /** Options and lists by name. */
  options: Map<string, UciValue>;
}

/** A parsed UCI package file. */
export interface UciFile {
  /** The path it was read from (for messages). */
  path: string;
  /** Sections in file order. */
  sections: UciSection[];
}

/** A malformed UCI file: names the file, the line and what was expected. */
export class UciSyntaxError extends Error {
  /** File path. */
  readonly path: string;
  /** 1-based line number. */
  readonly line: number;

  /** Builds `path:line: message`. */
  constructor(path: string, line: number, message: string) {
    super(`${path}:${line}: ${message}`);
    this.name = "UciSyntaxError";
    this.path = path;
    this.line = line;
  }
}

const NAME_RE = /^[A-Za-z0-9_]+$/;
/**
 * Section types may hold any printable ASCII character, as libuci's own check allows ("for types,
 * we allow more characters"): the Rust port's OpenWrt package writes `config sqm-autorate 'main'`.
 */
const TYPE_RE = /^[\x21-\x7e]+$/;

/**
 * Splits one line into tokens: bare words, 'single-quoted' (literal) and "double-quoted" (with
 * backslash escapes) pieces; adjacent pieces without whitespace concatenate; `#` outside quotes
 * starts a comment, returned apart (trimmed, without the `#`). Returns an error for an unterminated
 * quote.
 */
function tokenize(line: string): { tokens: string[]; comment?: string } | { error: string } {
  const tokens: string[] = [];
  const commented = (at: number) => ({ tokens, comment: line.slice(at + 1).trim() });
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") return commented(i);
    let token = "";
    while (i < line.length && !" \t\r".includes(line[i])) {
      const ch = line[i];
      if (ch === "#") {
        tokens.push(token);
        return commented(i);
      }
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) return { error: "unterminated single quote" };
        token += line.slice(i + 1, end);
        i = end + 1;
      } else if (ch === '"') {
        i++;
        let closed = false;
        while (i < line.length) {
          const d = line[i];
          if (d === "\\" && i + 1 < line.length) {
            token += line[i + 1];
            i += 2;
          } else if (d === '"') {
            closed = true;
            i++;
            break;
          } else {
            token += d;
            i++;
          }
        }
        if (!closed) return { error: "unterminated double quote" };
      } else {
        token += ch;
        i++;
      }
    }
    tokens.push(token);
  }
  return { tokens };
}

/** Parses UCI text. Throws `UciSyntaxError` naming `path:line` and what was expected. */
export function parseUci(text: string, path: string): UciFile {
  const sections: UciSection[] = [];
  const typeCounts = new Map<string, number>();
  let current: UciSection | undefined;
  let anonymousCount = 0;
  // Editors on other systems may save a UTF-8 byte-order mark; it is not part of the text.
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const fail = (message: string): never => {
      throw new UciSyntaxError(path, lineNo, message);
    };
    const tokenized = tokenize(lines[n]);
    if ("error" in tokenized) fail(tokenized.error);
    const { tokens: t, comment } = tokenized as { tokens: string[]; comment?: string };
    if (t.length === 0) continue;
    const [keyword, ...args] = t;
    switch (keyword) {
      case "package":
        if (args.length !== 1) fail("expected `package <name>`");
        break;
      case "config": {
        if (args.length < 1) fail("expected `config <type> ['<name>']`: missing section type");
        if (args.length > 2) fail(`unexpected text after section name: '${args[2]}'`);
        const [type, name] = args;
        if (!TYPE_RE.test(type)) {
          fail(`invalid section type '${type}': use printable ASCII characters only`);
        }
        if (name !== undefined && !NAME_RE.test(name)) {
          fail(`invalid section name '${name}': use letters, digits and _ only`);
        }
        const index = typeCounts.get(type) ?? 0;
        typeCounts.set(type, index + 1);
        anonymousCount++;
        current = {
          type,
          name: name ?? `cfg${(anonymousCount * 0x10).toString(16).padStart(6, "0")}`,
          anonymous: name === undefined,
          index,
          line: lineNo,
          options: new Map(),
        };
        sections.push(current);
        break;
      }
      case "option":
      case "list": {
        if (!current) fail(`\`${keyword}\` before any \`config\` section`);
        if (args.length < 2) {
          fail(
            `expected \`${keyword} <name> '<value>'\`: missing ${args.length ? "value" : "name"}`,
          );
        }
        if (args.length > 2) fail(`unexpected text after value: '${args[2]}' (quote the value)`);
        const [name, value] = args;
        if (!NAME_RE.test(name)) fail(`invalid option name '${name}': use letters, digits and _`);
        const section = current as UciSection;
        const noted = comment === undefined ? {} : { comment };
        if (keyword === "option") {
          section.options.set(name, { value, line: lineNo, ...noted });
        } else {
          const prev = section.options.get(name);
          const list = prev && Array.isArray(prev.value) ? prev.value : [];
          section.options.set(name, { value: [...list, value], line: lineNo, ...noted });
        }
        break;
      }
      default:
        fail(`unknown keyword '${keyword}': expected config, option or list`);
    }
  }
  return { path, sections };
}

/**
 * Finds a section by UCI address: a name, or `@type[N]` (N may be negative, counting from the
 * end), as in `sqm-autorate.@network[0].upload_interface`.
 */
export function findSection(file: UciFile, address: string): UciSection | undefined {
  // A type is printable ASCII (TYPE_RE) other than the brackets of the index.
  const m = /^@([\x21-\x5a\x5c\x5e-\x7e]+)\[(-?\d+)\]$/.exec(address);
  if (!m) return file.sections.find((s) => s.name === address);
  const ofType = file.sections.filter((s) => s.type === m[1]);
  const i = Number(m[2]);
  return ofType[i < 0 ? ofType.length + i : i];
}

/** Reads `address.option` (e.g. `@network[0]`, `upload_interface`). */
export function uciGet(file: UciFile, address: string, option: string): UciValue | undefined {
  return findSection(file, address)?.options.get(option);
}

/**
 * A whole section as upstream's `get_all` returns it: options (lists as arrays) plus the meta
 * keys `.name`, `.type`, `.anonymous`, `.index`. Values stay strings.
 */
export function uciGetAll(
  file: UciFile,
  address: string,
): Record<string, string | string[] | boolean | number> | undefined {
  const s = findSection(file, address);
  if (!s) return undefined;
  const out: Record<string, string | string[] | boolean | number> = {
    ".name": s.name,
    ".type": s.type,
    ".anonymous": s.anonymous,
    // Upstream's `.index` is the position among all sections of the package.
    ".index": file.sections.indexOf(s),
  };
  for (const [k, v] of s.options) out[k] = Array.isArray(v.value) ? [...v.value] : v.value;
  return out;
}
