/**
 * The reflector pool: the reflector list CSV (docs/formats.md §4) and the built-in initial peers
 * (docs/algorithm.md §8.1).
 */
import { EMBEDDED_REFLECTORS_CSV } from "./embedded_list.ts";
import { errorText } from "../util/error_text.ts";

/** Upstream's initial peers, in upstream's order (also in the shipped list). */
export const INITIAL_PEERS: readonly string[] = [
  "9.9.9.9",
  "8.238.120.14",
  "74.82.42.42",
  "194.242.2.2",
  "208.67.222.222",
  "94.140.14.14",
];

/** The header the reflector CSV must start with. */
export const REFLECTOR_CSV_HEADER = "reflector_ip,ip_version,description";

/** One problem found in a reflector CSV. */
export interface CsvProblem {
  /** 1-based line number. */
  line: number;
  /** What is wrong. */
  message: string;
  /** The line was used all the same (a first line of data without the header). */
  kept?: boolean;
}

/** Result of parsing a reflector CSV. */
export interface ReflectorCsv {
  /** IPv4 reflectors (rows with ip_version 4), in file order, without duplicates. */
  reflectors: string[];
  /** Bad lines (skipped) and other notes, with line numbers. */
  problems: CsvProblem[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** True for a dotted-quad IPv4 address with every octet 0–255. */
export function isIpv4(text: string): boolean {
  const m = IPV4.exec(text);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/**
 * Parses reflector CSV text. Keeps rows whose ip_version is 4 (like Lua); reports bad lines with
 * their numbers and skips them instead of aborting (unlike Rust). Never throws.
 */
export function parseReflectorCsv(text: string): ReflectorCsv {
  const lines = text.split(/\r?\n/);
  const problems: CsvProblem[] = [];
  const seen = new Set<string>();
  const reflectors: string[] = [];
  const header = (lines[0] ?? "").trim().replace(/^\uFEFF/, "");
  let start = 1;
  if (header !== REFLECTOR_CSV_HEADER) {
    problems.push({
      line: 1,
      message: `expected header "${REFLECTOR_CSV_HEADER}"`,
      kept: isIpv4(header.split(",")[0].trim()),
    });
    // Without a header the first line may already be data.
    start = 0;
  }
  for (let i = start; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === "" || raw.startsWith("#")) continue;
    const cols = raw.split(",").map((c) => c.trim());
    const [ip, version] = cols;
    if (i === 0 && !isIpv4(ip)) continue; // a different header: already reported
    if (cols.length < 2) {
      problems.push({ line: i + 1, message: `expected at least 2 columns, got "${raw}"` });
      continue;
    }
    if (version === "6") continue; // an IPv6 row: valid but not usable
    if (version !== "4") {
      problems.push({ line: i + 1, message: `ip_version must be 4 or 6, got "${version}"` });
      continue;
    }
    if (!isIpv4(ip)) {
      problems.push({ line: i + 1, message: `"${ip}" is not an IPv4 address` });
      continue;
    }
    if (seen.has(ip)) continue;
    seen.add(ip);
    reflectors.push(ip);
  }
  return { reflectors, problems };
}

/** The shipped list, parsed (embedded in the module graph: no file read). */
export function embeddedPool(): string[] {
  return parseReflectorCsv(EMBEDDED_REFLECTORS_CSV).reflectors;
}

/** Options for `loadPool`. */
export interface LoadPoolOptions {
  /** Reads a file (injected for tests); default `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
  /** Receives each CSV problem, already formatted with file and line. */
  warn?: (message: string) => void;
}

/**
 * The pool for `reflector_list_file`: the embedded list when the setting is empty, otherwise the
 * file. An unreadable file or one with no usable reflector is an error naming the file.
 */
export async function loadPool(
  reflectorListFile: string,
  options: LoadPoolOptions = {},
): Promise<string[]> {
  if (reflectorListFile === "") return embeddedPool();
  const read = options.readTextFile ?? ((p: string) => Deno.readTextFile(p));
  let text: string;
  try {
    text = await read(reflectorListFile);
  } catch (e) {
    throw new Error(
      `reflector_list_file ${reflectorListFile}: cannot read (${errorText(e)})`,
    );
  }
  const parsed = parseReflectorCsv(text);
  for (const p of parsed.problems) {
    const what = p.kept ? "read as data" : "line skipped";
    options.warn?.(`${reflectorListFile}:${p.line}: ${p.message}; ${what}`);
  }
  if (parsed.reflectors.length === 0) {
    throw new Error(`reflector_list_file ${reflectorListFile}: no IPv4 reflectors found`);
  }
  return parsed.reflectors;
}

/**
 * The peers to start with: upstream's six when the pool holds them (the shipped list does);
 * with a custom list, those of the six it holds plus random pool entries up to `count`, so the
 * daemon never starts by pinging hosts its list does not name (a private test bed, a LAN-only
 * reflector list).
 */
export function initialPeersFor(
  pool: readonly string[],
  options: { count: number; random: () => number },
): string[] {
  const inPool = new Set(pool);
  const peers = INITIAL_PEERS.filter((p) => inPool.has(p));
  if (peers.length === INITIAL_PEERS.length) return peers;
  const rest = pool.filter((p) => !peers.includes(p));
  while (peers.length < options.count && rest.length > 0) {
    const i = Math.floor(options.random() * rest.length);
    peers.push(rest.splice(i, 1)[0]);
  }
  return peers;
}
