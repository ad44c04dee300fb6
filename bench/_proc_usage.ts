/**
 * CPU time and resident memory of a process and everything it runs, read from /proc (Linux).
 * Used by the footprint benchmark; the bench runner skips files starting with `_`.
 *
 * CPU of a tree = for every live process in it, its own time plus the time of the children it
 * has already reaped (`cutime`/`cstime`). A child that exits inside a measuring window and is
 * reaped by the daemon moves from "live" to the daemon's `cutime` with its whole lifetime, so the
 * difference between two readings is exact either way.
 */

/** One process as /proc/PID/stat describes it. */
export interface ProcStat {
  /** Process id. */
  readonly pid: number;
  /** Parent process id. */
  readonly ppid: number;
  /** Command name (`comm`). */
  readonly comm: string;
  /** Own user + system time plus reaped children's, in clock ticks. */
  readonly cpuTicks: number;
  /** Resident set size in bytes. */
  readonly rssBytes: number;
}

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux Deno runs on). */
export const CLOCK_TICKS = 100;
const PAGE_BYTES = 4096;

/** Parses the text of /proc/PID/stat; `undefined` when it is not one. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).trim().split(" ");
  // Fields after the command: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17) …
  // rss(24), numbered from 1 as in proc(5); rest[0] is field 3.
  const field = (n: number) => Number(rest[n - 3]);
  const pid = Number(text.slice(0, open).trim());
  const cpuTicks = field(14) + field(15) + field(16) + field(17);
  if (!Number.isFinite(pid) || !Number.isFinite(cpuTicks)) return undefined;
  return {
    pid,
    ppid: field(4),
    comm: text.slice(open + 1, close),
    cpuTicks,
    rssBytes: field(24) * PAGE_BYTES,
  };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Selects `root` and its descendants from a process list. */
export function subtree(all: readonly ProcStat[], root: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const p of all) {
    const list = children.get(p.ppid);
    if (list === undefined) children.set(p.ppid, [p]);
    else list.push(p);
  }
  const self = all.find((p) => p.pid === root);
  if (self === undefined) return [];
  const out: ProcStat[] = [];
  const todo = [self];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    out.push(p);
    todo.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/** Every process of the machine (those that exit while reading are left out). */
export function allProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const s = readStat(Number(e.name));
    if (s !== undefined) out.push(s);
  }
  return out;
}

/**
 * CPU seconds and RSS of `root` and all its descendants right now. A descendant still named like
 * the root is one caught between fork and exec: it shares the root's memory, so its RSS is not
 * added (the daemon never runs a copy of itself).
 */
export function treeUsage(root: number): { cpuS: number; rssBytes: number; procs: ProcStat[] } {
  const procs = subtree(allProcesses(), root);
  let ticks = 0;
  let rss = 0;
  for (const p of procs) {
    ticks += p.cpuTicks;
    if (countsInRss(p, { root, procs })) rss += p.rssBytes;
  }
  return { cpuS: ticks / CLOCK_TICKS, rssBytes: rss, procs };
}

/** Whether `p` counts in its tree's summed memory: the root and every child not of its command. */
function countsInRss(p: ProcStat, tree: { root: number; procs: readonly ProcStat[] }): boolean {
  return p.pid === tree.root || p.comm !== tree.procs[0].comm;
}

/** The `Pss:` of a /proc/PID/smaps_rollup text, bytes (0 when absent). */
export function parseRollupPss(text: string): number {
  return rollupBytes(text, "Pss");
}

/** One `KEY:  N kB` line of a /proc/PID/smaps_rollup text, bytes (0 when it is missing). */
function rollupBytes(text: string, key: string): number {
  return Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
}

/**
 * The private pages (`Private_Clean:` + `Private_Dirty:`, the unique set size) of a
 * /proc/PID/smaps_rollup text, bytes: unlike PSS, it does not depend on how many other processes
 * map the same executable (other `deno` processes on the machine).
 */
export function parseRollupPrivate(text: string): number {
  return rollupBytes(text, "Private_Clean") + rollupBytes(text, "Private_Dirty");
}

/**
 * Summed proportional set size of `procs` now (bytes): each shared page divided among the
 * processes mapping it, so libc's pages, resident in the daemon and each helper, count once in
 * all; a process that has exited counts 0.
 */
export function treePss(procs: readonly ProcStat[], root: number): number {
  return treeRollup(procs, { root, parse: parseRollupPss });
}

/** Summed private pages (USS) of `procs` now (bytes), as {@linkcode treePss} counts them. */
export function treePrivate(procs: readonly ProcStat[], root: number): number {
  return treeRollup(procs, { root, parse: parseRollupPrivate });
}

function treeRollup(
  procs: readonly ProcStat[],
  o: { root: number; parse: (text: string) => number },
): number {
  let sum = 0;
  for (const p of procs) {
    if (!countsInRss(p, { root: o.root, procs })) continue;
    try {
      sum += o.parse(Deno.readTextFileSync(`/proc/${p.pid}/smaps_rollup`));
    } catch {
      // exited meanwhile
    }
  }
  return sum;
}

/** Open file descriptors of `pid` now (entries of /proc/PID/fd); NaN when it has exited. */
export function openFds(pid: number): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
    return n;
  } catch {
    return NaN;
  }
}

/**
 * Samples a process tree's RSS every `periodMs` and keeps the peak of the sum, and the peak per
 * command name (what makes up the figure).
 */
export class RssPeakSampler {
  /** Largest summed RSS seen, bytes. */
  peakBytes = 0;
  /** The root's own RSS in the sample with the largest sum, bytes (the rest: its children). */
  peakRootBytes = 0;
  /** How the root's RSS divided in that sample (`exeBytes` not read: 0). */
  peakRoot: MemorySplit | undefined;
  /** The tree's summed PSS in the sample with the largest summed RSS, bytes. */
  pssAtPeakBytes = 0;
  /** Largest RSS seen per command name, bytes. */
  readonly peakByComm = new Map<string, number>();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #root: number;

  /** Starts sampling `root`'s tree at once and then every `periodMs`. */
  constructor(root: number, periodMs = 200) {
    this.#root = root;
    this.sample();
    this.#timer = setInterval(() => this.sample(), periodMs);
  }

  /** Takes one sample now. */
  sample(): void {
    const { rssBytes, procs } = treeUsage(this.#root);
    if (rssBytes > this.peakBytes) {
      this.peakBytes = rssBytes;
      const root = procs.find((p) => p.pid === this.#root);
      this.peakRootBytes = root?.rssBytes ?? 0;
      this.peakRoot = memorySplit(this.#root, { exe: false }) ?? this.peakRoot;
      this.pssAtPeakBytes = treePss(procs, this.#root);
    }
    for (const p of procs) {
      this.peakByComm.set(p.comm, Math.max(this.peakByComm.get(p.comm) ?? 0, p.rssBytes));
    }
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** How a process's resident memory divides (bytes), from /proc/PID/status and smaps. */
export interface MemorySplit {
  /** Anonymous pages: JavaScript heap, native heap, stacks: the program's own memory. */
  readonly anonBytes: number;
  /** File-backed pages: the executable, shared libraries, mapped caches. */
  readonly fileBytes: number;
  /** The part of `fileBytes` that is the process's own executable (e.g. the deno binary). */
  readonly exeBytes: number;
}

/** Parses `RssAnon`/`RssFile` (kB) of a /proc/PID/status text. */
export function parseStatusSplit(text: string): { anonBytes: number; fileBytes: number } {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { anonBytes: kb("RssAnon") * 1024, fileBytes: kb("RssFile") * 1024 };
}

/** Sums the `Rss:` of the mappings of `path` in a /proc/PID/smaps text (bytes). */
export function mappedRss(smaps: string, path: string): number {
  let inside = false;
  let kb = 0;
  for (const line of smaps.split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      inside = line.trimEnd().endsWith(` ${path}`);
    } else if (inside && line.startsWith("Rss:")) {
      kb += Number(/(\d+)/.exec(line)?.[1] ?? 0);
    }
  }
  return kb * 1024;
}

/**
 * The memory split of `pid` now; `undefined` when it has exited. `exe: false` skips the
 * executable's share (smaps is long; `exeBytes` is then 0).
 */
export function memorySplit(pid: number, options: { exe?: boolean } = {}): MemorySplit | undefined {
  try {
    const status = parseStatusSplit(Deno.readTextFileSync(`/proc/${pid}/status`));
    if (options.exe === false) return { ...status, exeBytes: 0 };
    const exe = Deno.readLinkSync(`/proc/${pid}/exe`);
    const exeBytes = mappedRss(Deno.readTextFileSync(`/proc/${pid}/smaps`), exe);
    return { ...status, exeBytes };
  } catch {
    return undefined;
  }
}

/** Scheduler figures of a process tree (/proc/PID/task/TID/schedstat), summed over its threads. */
export interface TreeSched {
  /** Nanoseconds on a CPU, live processes only (a reaped child's time is not in it). */
  readonly runNs: number;
  /** Times a thread was put on a CPU: about one per wake-up for a mostly sleeping process. */
  readonly slices: number;
  /** The same per process, by pid: `[comm, runNs, slices]`. */
  readonly byPid: ReadonlyMap<number, readonly [string, number, number]>;
}

/** Parses a schedstat text: run time (ns), wait time (ns), timeslices. */
export function parseSchedstat(text: string): { runNs: number; slices: number } | undefined {
  const [run, , slices] = text.trim().split(" ").map(Number);
  return Number.isFinite(run) && Number.isFinite(slices) ? { runNs: run, slices } : undefined;
}

/**
 * Nanosecond CPU time and wake-ups of `root`'s tree now, per thread from schedstat: finer than
 * the 10 ms clock ticks of /proc/PID/stat, which matters for an idle daemon's fraction of a
 * percent. The difference of two is only right when no child exits between them; over a window
 * in which children are replaced, sum with `SchedWindow`.
 */
export function treeSched(root: number): TreeSched {
  const byPid = new Map<number, [string, number, number]>();
  let runNs = 0;
  let slices = 0;
  for (const p of subtree(allProcesses(), root)) {
    let pidRun = 0;
    let pidSlices = 0;
    try {
      for (const t of Deno.readDirSync(`/proc/${p.pid}/task`)) {
        const s = parseSchedstat(Deno.readTextFileSync(`/proc/${p.pid}/task/${t.name}/schedstat`));
        if (s === undefined) continue;
        pidRun += s.runNs;
        pidSlices += s.slices;
      }
    } catch {
      continue; // exited meanwhile
    }
    byPid.set(p.pid, [p.comm, pidRun, pidSlices]);
    runNs += pidRun;
    slices += pidSlices;
  }
  return { runNs, slices, byPid };
}

/**
 * A tree's schedstat time over a window in which children may be replaced (under load `tc` every
 * 100 changes, the pinger at a new reflector set): snapshots taken every so often, each process
 * counted from its first snapshot in the window (from zero when it started after the window's
 * first) to its last one, so that a replaced child's time before the window is never subtracted
 * and at most one period of its time is lost (docs/footprint.md, "Twenty-eighth session").
 */
export class SchedWindow {
  /** Each live process's figures at the last snapshot. */
  #last: ReadonlyMap<number, readonly [string, number, number]>;
  /** Per process: `[comm, runNs, slices]` within the window so far. */
  readonly #acc = new Map<number, [string, number, number]>();

  /** @param start The tree at the window's start. */
  constructor(start: TreeSched) {
    this.#last = start.byPid;
  }

  /** Takes in a later snapshot of the same tree. */
  add(now: TreeSched): void {
    for (const [pid, [comm, ns, n]] of now.byPid) {
      const [, ns0, n0] = this.#last.get(pid) ?? [comm, 0, 0];
      const a = this.#acc.get(pid) ?? [comm, 0, 0];
      this.#acc.set(pid, [comm, a[1] + ns - ns0, a[2] + n - n0]);
    }
    this.#last = now.byPid;
  }

  /** Nanoseconds on a CPU within the window, all processes. */
  get runNs(): number {
    let sum = 0;
    for (const [, ns] of this.#acc.values()) sum += ns;
    return sum;
  }

  /** Per command name (a replaced child's processes together): `[runNs, slices]`. */
  byComm(): Map<string, [number, number]> {
    const out = new Map<string, [number, number]>();
    for (const [comm, ns, n] of this.#acc.values()) {
      const a = out.get(comm) ?? [0, 0];
      out.set(comm, [a[0] + ns, a[1] + n]);
    }
    return out;
  }
}

/**
 * A process's anonymous resident memory by what holds it (bytes), from /proc/PID/smaps: where the
 * native part of a Deno process's growth is (docs/footprint.md, "Long runs under load").
 */
export interface AnonKinds {
  /** `[heap]`: glibc malloc's main arena (the brk heap). */
  readonly mallocMain: number;
  /** Other threads' malloc arenas: a read-write start of a 64 MiB-aligned reservation. */
  readonly mallocArenas: number;
  /** V8's heap pages (anonymous mappings at V8's random hints, below 64 TiB) and its code. */
  readonly v8: number;
  /** Thread stacks (a mapping right after a guard page) and the main `[stack]`. */
  readonly stacks: number;
  /** Written pages of file mappings: the executable's and libraries' data, copied on write. */
  readonly fileData: number;
  /** The rest: large malloc blocks mapped on their own, the executable's zeroed data, … */
  readonly other: number;
}

/** glibc's reservation for each non-main malloc arena (HEAP_MAX_SIZE on 64-bit), bytes. */
const ARENA_RESERVATION = 64 * 1024 * 1024;
/** V8 on 64-bit Linux places its pages at random hints below this address. */
const V8_HINT_LIMIT = 0x4000_0000_0000;

/** One smaps mapping: its address range, permissions and name. */
interface SmapsMapping {
  start: number;
  end: number;
  perms: string;
  name: string;
}

/** What holds mapping `m`'s anonymous pages, from its name and its neighbours `before`/`after`. */
function anonKind(
  m: SmapsMapping,
  { before, after }: { before?: SmapsMapping; after?: SmapsMapping },
): keyof AnonKinds {
  if (m.name === "[heap]") return "mallocMain";
  if (m.name === "[stack]") return "stacks";
  if (m.name.startsWith("[")) return "other";
  if (m.name !== "") return "fileData";
  if (m.start % ARENA_RESERVATION === 0 && after?.start === m.end && after.perms === "---p") {
    return "mallocArenas";
  }
  if (before?.end === m.start && before.perms === "---p" && m.perms === "rw-p") return "stacks";
  return m.start < V8_HINT_LIMIT || m.perms.includes("x") ? "v8" : "other";
}

/**
 * Classifies the anonymous pages (`Anonymous:`) of a /proc/PID/smaps text by mapping
 * ({@linkcode AnonKinds}); the kinds add up to the process's `RssAnon`.
 */
export function parseAnonKinds(smaps: string): AnonKinds {
  const maps: (SmapsMapping & { anon: number })[] = [];
  for (const line of smaps.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) {
      const [, start, end, perms, name] = head;
      maps.push({ start: parseInt(start, 16), end: parseInt(end, 16), perms, name, anon: 0 });
    } else if (line.startsWith("Anonymous:") && maps.length > 0) {
      maps[maps.length - 1].anon = Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
    }
  }
  const kinds = { mallocMain: 0, mallocArenas: 0, v8: 0, stacks: 0, fileData: 0, other: 0 };
  for (const [i, m] of maps.entries()) {
    kinds[anonKind(m, { before: maps[i - 1], after: maps[i + 1] })] += m.anon;
  }
  return kinds;
}

/** {@linkcode parseAnonKinds} of `pid` now; `undefined` when it has exited. */
export function anonKinds(pid: number): AnonKinds | undefined {
  try {
    return parseAnonKinds(Deno.readTextFileSync(`/proc/${pid}/smaps`));
  } catch {
    return undefined;
  }
}
