/**
 * Soak of the real daemon under repeated faults (docs/operation.md, "Months of faults: the soak"):
 * the daemon (`main.ts run` under `-P=daemon` with the release V8 flags) shapes a veth "WAN" (tbf
 * on its egress) and an IFB fed by the WAN's ingress (tbf, as sqm-scripts sets it up) in two
 * uniquely named network namespaces (`sqma-soak-PID` the router, `sqma-soakfar-PID` the far side
 * with a 25 Mbit/s tbf bottleneck on its side of the link, eight reflectors on its `lo` and an iperf3 server),
 * with real fping, tc and ip. While it runs, faults follow each other with a quiet gap of
 * `--gap` seconds after each (shuffled rounds, so every kind comes up as often):
 *
 * - `unreachable`: the route to every reflector becomes `unreachable` for 20–40 s;
 * - `silent`: one reflector fping is probing stops answering for 30–60 s;
 * - `link_down`: the WAN link down for 10–20 s, then up (its route put back, as netifd does);
 * - `sqm_restart`: the WAN's root and ingress qdiscs and the IFB deleted, then made again at the
 *   base rates after 2 s (an sqm-scripts restart);
 * - `wan_recreated`: the WAN veth deleted and made again after 3 s (a PPPoE reconnect);
 * - `helper_kill`: a random child of the daemon (tc, ip or fping) killed with SIGKILL;
 * - `helper_stop`: a random child SIGSTOPped for 2–8 s, then SIGCONT;
 * - `hup_changed` / `hup_same`: SIGHUP after the download base rate changed (a restart in place) /
 *   nothing changed (the running daemon kept: docs/operation.md, "A SIGHUP with nothing changed");
 * - `stats_dir`: the statistics files' directory removed.
 *
 * Independently, iperf3 load (two streams, both ways) runs 30–90 s on, 20–60 s off.
 *
 * Every minute it records the daemon's resident set (/proc), JS heap used (`/metrics`), open fds,
 * threads, children and zombies (`/proc/N/stat` with the daemon as parent), the log lines per level
 * that minute and both shapers' kernel rates. 15 s after each fault ends it checks both root qdiscs
 * are tbf at the daemon's own rate (`sqm_shaper_rate_bits_per_second`). At the end: SIGTERM, the
 * exit (base) rates must be in the kernel and no process may be left in the router's namespace.
 *
 * Needs root. Not part of any test task (tens of minutes):
 *
 *   deno run -A scripts/soak_faults.ts [--minutes N] [--controller ewma|capacity] [--seed S]
 *     [--gap MIN-MAX] [--out PREFIX]
 *
 * `--only KIND,…` cycles only those faults (e.g. `--only hup_same --gap 4-6 --settle 3`: one kind
 * repeated many times); `--settle S` (default 15) is the wait before the post-fault check.
 * `--minutes` default 30 (at least 7); `--gap` default 20-60 (s); `--out` default /tmp/soak_faults (writes
 * PREFIX_minutes.tsv, PREFIX_daemon.log and PREFIX_events.txt). Ends with `metric` lines:
 * `soak_rss_growth` (MB: after a 5-minute warm-up, the median of the second half of the minutes
 * minus that of the first), `soak_rss_slope` (MB/h, least squares over the same minutes),
 * `soak_heap_floor_growth` (MB: the lowest heap of the second half minus that of the first; the
 * heap itself is a sawtooth of several MB between major collections), `soak_fd_growth` and
 * `soak_threads_growth` (as the resident set), `soak_children_max`, `soak_zombies_max`,
 * `soak_log_lines_per_min_max`,
 * `soak_shaper_bad_checks` (post-fault checks failed), `soak_exit_rate_ok` and `soak_children_left`.
 */
import { argValue, exitOnHelp } from "../bench/_args.ts";
import { DAEMON_V8_FLAGS, v8FlagsArg } from "../src/release/v8_flags.ts";
import { daemonRuntimeDir, must, sh, spawnDaemonInNetns } from "../src/util/netns_testing.ts";
import { median } from "../src/util/stats.ts";

exitOnHelp(import.meta.url);

const minutes = Number(argValue("--minutes") ?? "30");
const controller = argValue("--controller") ?? "ewma";
const seed = Number(argValue("--seed") ?? String(Date.now() % 100000));
const [gapMin, gapMax] = (argValue("--gap") ?? "20-60").split("-").map(Number);
const out = argValue("--out") ?? "/tmp/soak_faults";
// The growth figures compare two halves of the minutes after a 5-minute warm-up.
if (!(minutes >= 7)) {
  throw new Error(`--minutes: ${minutes} is not 7 or more (a 5-minute warm-up, then two halves)`);
}
if (!(gapMin > 0 && gapMax >= gapMin)) throw new Error("bad --gap");

const R = `sqma-soak-${Deno.pid}`;
const F = `sqma-soakfar-${Deno.pid}`;
const WAN = "sw0";
const FAR = "sw1";
const IFB = "sifb";
const UP_BASE = 10000;
const REFLECTORS = Array.from({ length: 8 }, (_, i) => `10.79.0.${i + 1}`);
/** Seconds after a fault ends before the shapers are checked. */
const SETTLE_S = Number(argValue("--settle") ?? "15");
/** The fault kinds to cycle (default all). */
const only = argValue("--only")?.split(",");

/** mulberry32: the faults' order and durations from `--seed`. */
let rngState = seed >>> 0;
function rand(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const between = (a: number, b: number) => a + rand() * (b - a);
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

const t0 = Date.now();
const elapsed = () => (Date.now() - t0) / 1000;
const events: string[] = [];
function event(text: string): void {
  const clock = new Date().toISOString().slice(11, 19);
  const line = `${elapsed().toFixed(1).padStart(7)} s ${clock}  ${text}`;
  events.push(line);
  console.log(line);
}

// ---------------------------------------------------------------- topology

const TBF = (kbit: number) => ["tbf", "rate", `${kbit}kbit`, "burst", "15kb", "latency", "50ms"];

async function addWan(): Promise<void> {
  await must("ip", ["-n", R, "link", "add", WAN, "type", "veth", "peer", "name", FAR, "netns", F]);
  await must("ip", ["-n", R, "addr", "add", "10.78.0.1/30", "dev", WAN]);
  await must("ip", ["-n", F, "addr", "add", "10.78.0.2/30", "dev", FAR]);
  await must("ip", ["-n", R, "link", "set", WAN, "up"]);
  await must("ip", ["-n", F, "link", "set", FAR, "up"]);
  await must("tc", [
    ...["-n", F, "qdisc", "add", "dev", FAR, "root"],
    ...["tbf", "rate", "25mbit", "burst", "15kb", "latency", "100ms"],
  ]);
  await routeReflectors();
}

async function routeReflectors(): Promise<void> {
  await must("ip", ["-n", R, "route", "replace", "10.79.0.0/24", "via", "10.78.0.2"]);
}

/** The shapers as sqm-scripts makes them: tbf on the WAN, its ingress redirected to the IFB. */
async function addShapers(downBase: number): Promise<void> {
  const ifbThere = (await sh("ip", ["-n", R, "link", "show", IFB])).ok;
  if (!ifbThere) {
    await must("ip", ["-n", R, "link", "add", IFB, "type", "ifb"]);
    await must("ip", ["-n", R, "link", "set", IFB, "up"]);
  }
  await must("tc", ["-n", R, "qdisc", "replace", "dev", IFB, "root", ...TBF(downBase)]);
  await must("tc", ["-n", R, "qdisc", "replace", "dev", WAN, "root", ...TBF(UP_BASE)]);
  await must("tc", ["-n", R, "qdisc", "replace", "dev", WAN, "handle", "ffff:", "ingress"]);
  await must("tc", [
    ...["-n", R, "filter", "add", "dev", WAN, "parent", "ffff:", "protocol", "all"],
    ...["u32", "match", "u32", "0", "0"],
    ...["action", "mirred", "egress", "redirect", "dev", IFB],
  ]);
}

async function setup(): Promise<void> {
  for (const ns of [R, F]) {
    await sh("ip", ["netns", "del", ns]);
    await must("ip", ["netns", "add", ns]);
    await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
  }
  for (const a of REFLECTORS) await must("ip", ["-n", F, "addr", "add", `${a}/32`, "dev", "lo"]);
  await addWan();
  await addShapers(downBase);
}

// ---------------------------------------------------------------- daemon

let downBase = 20000;
const dir = await daemonRuntimeDir("soak-");
const statsDir = `${dir}/stats`;
const configPath = `${dir}/sqm-autorate`;

function uci(): string {
  return [
    "config network",
    `\toption upload_interface '${WAN}'`,
    `\toption download_interface '${IFB}'`,
    `\toption upload_base_kbits '${UP_BASE}'`,
    `\toption download_base_kbits '${downBase}'`,
    "\toption upload_max_kbits '15000'",
    "config output",
    "\toption log_level 'INFO'",
    "\toption log_format 'json'",
    `\toption stats_file '${statsDir}/sqm-autorate.csv'`,
    `\toption speed_hist_file '${statsDir}/sqm-speedhist.csv'`,
    "\toption metrics_listen '127.0.0.1:9101'",
    "config advanced_settings",
    "\toption shaper 'tbf'",
    "\toption pinger 'fping'",
    `\toption rate_controller '${controller}'`,
    `\toption state_dir '${dir}'`,
    `\toption reflector_list_file '${dir}/reflectors.csv'`,
    "",
  ].join("\n");
}

/** Log lines per level per minute, and per normalised message over the run. */
const levelsByMinute: Map<string, number>[] = [];
const messages = new Map<string, number>();
let logFile: Deno.FsFile;
let daemon!: Deno.ChildProcess;
let daemonExit: number | undefined;

function countLine(line: string): void {
  const minute = Math.floor(elapsed() / 60);
  while (levelsByMinute.length <= minute) levelsByMinute.push(new Map());
  let level = "?";
  let message = line;
  try {
    const o = JSON.parse(line);
    level = o.level ?? "?";
    message = `${o.stage ?? ""}: ${o.message ?? line}`;
  } catch { /* not json (deno's own warnings) */ }
  const m = levelsByMinute[minute];
  m.set(level, (m.get(level) ?? 0) + 1);
  const key = `${level} ${message.replace(/[0-9]+(\.[0-9]+)?/g, "#")}`.slice(0, 160);
  messages.set(key, (messages.get(key) ?? 0) + 1);
}

function startDaemon(): void {
  logFile = Deno.openSync(`${out}_daemon.log`, { write: true, create: true, truncate: true });
  daemon = spawnDaemonInNetns(R, ["run", "--config", configPath], {
    denoArgs: [v8FlagsArg(DAEMON_V8_FLAGS)],
  });
  void daemon.status.then((s) => {
    daemonExit = s.code;
    event(`daemon exited with ${s.code}`);
  });
  const enc = new TextEncoder();
  void (async () => {
    let rest = "";
    for await (const chunk of daemon.stderr.pipeThrough(new TextDecoderStream())) {
      logFile.writeSync(enc.encode(chunk));
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l.trim() !== "") countLine(l);
    }
  })().catch(() => {});
}

// ---------------------------------------------------------------- readings

interface Proc {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    return {
      pid,
      comm: stat.slice(stat.indexOf("(") + 1, close),
      state: fields[0],
      ppid: Number(fields[1]),
    };
  } catch {
    return undefined;
  }
}

function childrenOf(ppid: number): Proc[] {
  const found: Proc[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const p = readProc(Number(e.name));
    if (p !== undefined && p.ppid === ppid) found.push(p);
  }
  return found;
}

function statusField(pid: number, field: string): number {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(
      new RegExp(`^${field}:\\s+(\\d+)`, "m"),
    );
    return m === null ? NaN : Number(m[1]);
  } catch {
    return NaN;
  }
}

function fdCount(pid: number): number {
  try {
    return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
  } catch {
    return NaN;
  }
}

/** The daemon's open fds by kind (`pipe`, `socket`, `anon_inode:[eventpoll]`, a file …), as `kind×n`. */
function fdKinds(pid: number): string {
  const kinds = new Map<string, number>();
  try {
    for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
      let target = "?";
      try {
        target = Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`);
      } catch { /* closed meanwhile */ }
      const kind = target.replace(/:\[\d+\]$/, "");
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
  } catch { /* gone */ }
  return [...kinds].sort().map(([k, n]) => `${k}×${n}`).join(",");
}

/** The daemon's `/metrics`, parsed to `name{labels}` → value; empty when unreadable. */
async function metrics(): Promise<Map<string, number>> {
  const r = await sh("ip", [
    ...["netns", "exec", R, "curl", "-s", "-m", "3", "http://127.0.0.1:9101/metrics"],
  ]);
  const m = new Map<string, number>();
  if (!r.ok) return m;
  for (const line of r.out.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

/** The root qdisc of `dev` in the router: kind and rate (kbit/s), or undefined. */
async function rootQdisc(dev: string): Promise<{ kind: string; kbit: number } | undefined> {
  const r = await sh("tc", ["-n", R, "-j", "qdisc", "show", "dev", dev, "root"]);
  if (!r.ok) return undefined;
  try {
    const q = JSON.parse(r.out).find((x: { root?: boolean }) => x.root === true);
    if (q === undefined) return undefined;
    return { kind: q.kind, kbit: Math.round((q.options?.rate ?? 0) * 8 / 1000) };
  } catch {
    return undefined;
  }
}

interface Row {
  minute: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  threads: number;
  children: number;
  zombies: number;
  childList: string;
  dlKbit: number;
  ulKbit: number;
  load: boolean;
}
const rows: Row[] = [];
const seenChildren = new Map<number, string>();
let loadOn = false;

async function sample(): Promise<Row> {
  const pid = daemon.pid;
  const kids = childrenOf(pid);
  for (const k of kids) seenChildren.set(k.pid, k.comm);
  const m = await metrics();
  const dl = await rootQdisc(IFB);
  const ul = await rootQdisc(WAN);
  const row: Row = {
    minute: Math.round(elapsed() / 60),
    rssMb: statusField(pid, "VmRSS") / 1024,
    heapMb: (m.get("sqm_js_heap_used_bytes") ?? NaN) / 1e6,
    fds: fdCount(pid),
    threads: statusField(pid, "Threads"),
    children: kids.length,
    zombies: kids.filter((k) => k.state === "Z").length,
    childList: kids.map((k) => `${k.comm}:${k.state}`).join(",") || "-",
    dlKbit: dl?.kbit ?? -1,
    ulKbit: ul?.kbit ?? -1,
    load: loadOn,
  };
  rows.push(row);
  const levels = levelsByMinute[Math.max(0, Math.floor(elapsed() / 60) - 1)] ?? new Map();
  const lv = [...levels].map(([k, v]) => `${k}=${v}`).join(",") || "-";
  const line = [
    row.minute,
    row.rssMb.toFixed(1),
    row.heapMb.toFixed(1),
    row.fds,
    row.threads,
    row.children,
    row.zombies,
    row.childList,
    row.dlKbit,
    row.ulKbit,
    row.load ? 1 : 0,
    lv,
    fdKinds(pid),
  ].join("\t");
  Deno.writeTextFileSync(`${out}_minutes.tsv`, line + "\n", { append: true });
  console.log(`minute ${line}`);
  return row;
}

/** Both root qdiscs tbf at the daemon's own rates (read three times over 3 s before failing). */
let badChecks = 0;
let checks = 0;
async function checkShapers(after: string): Promise<void> {
  checks++;
  let last = "";
  for (let i = 0; i < 4; i++) {
    const m = await metrics();
    const wantDl = Math.round(
      (m.get('sqm_shaper_rate_bits_per_second{direction="download"}') ?? NaN) / 1000,
    );
    const wantUl = Math.round(
      (m.get('sqm_shaper_rate_bits_per_second{direction="upload"}') ?? NaN) / 1000,
    );
    const dl = await rootQdisc(IFB);
    const ul = await rootQdisc(WAN);
    const near = (a: number, b: number) => Math.abs(a - b) <= Math.max(8, b * 0.002);
    last =
      `kernel dl ${dl?.kind}@${dl?.kbit} ul ${ul?.kind}@${ul?.kbit}, daemon dl ${wantDl} ul ${wantUl}`;
    if (
      dl?.kind === "tbf" && ul?.kind === "tbf" && near(dl.kbit, wantDl) && near(ul.kbit, wantUl)
    ) {
      event(`  check after ${after}: ok (${last})`);
      return;
    }
    await sleep(1);
  }
  badChecks++;
  event(`  check after ${after}: BAD (${last})`);
}

// ---------------------------------------------------------------- faults

/** The daemon's helpers, optionally of one kind. */
const helpers = (comm?: string) =>
  childrenOf(daemon.pid).filter((c) => c.state !== "Z" && (comm === undefined || c.comm === comm));

function fpingTargets(): string[] {
  for (const c of helpers("fping")) {
    try {
      const args = Deno.readTextFileSync(`/proc/${c.pid}/cmdline`).split("\0");
      return args.filter((a) => REFLECTORS.includes(a));
    } catch { /* gone */ }
  }
  return [];
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch { /* gone */ }
}

const FAULTS: Record<string, () => Promise<string>> = {
  unreachable: async () => {
    await must("ip", ["-n", R, "route", "replace", "unreachable", "10.79.0.0/24"]);
    const hold = between(20, 40);
    await sleep(hold);
    await routeReflectors();
    return `held ${hold.toFixed(0)} s`;
  },
  silent: async () => {
    const targets = fpingTargets();
    const pool = targets.length > 0 ? targets : REFLECTORS;
    const victim = pool[Math.floor(rand() * pool.length)];
    await must("ip", ["-n", F, "addr", "del", `${victim}/32`, "dev", "lo"]);
    const hold = between(30, 60);
    await sleep(hold);
    await must("ip", ["-n", F, "addr", "add", `${victim}/32`, "dev", "lo"]);
    return `${victim} (${targets.length > 0 ? "probed" : "fping not running"}) for ${
      hold.toFixed(0)
    } s`;
  },
  link_down: async () => {
    await must("ip", ["-n", R, "link", "set", WAN, "down"]);
    const hold = between(10, 20);
    await sleep(hold);
    await must("ip", ["-n", R, "link", "set", WAN, "up"]);
    await routeReflectors();
    return `held ${hold.toFixed(0)} s`;
  },
  sqm_restart: async () => {
    await sh("tc", ["-n", R, "qdisc", "del", "dev", WAN, "root"]);
    await sh("tc", ["-n", R, "qdisc", "del", "dev", WAN, "ingress"]);
    await must("ip", ["-n", R, "link", "del", IFB]);
    await sleep(2);
    await addShapers(downBase);
    return "qdiscs and IFB made again at base rates";
  },
  wan_recreated: async () => {
    await must("ip", ["-n", R, "link", "del", WAN]);
    await sleep(3);
    await addWan();
    await addShapers(downBase);
    return "veth made again";
  },
  helper_kill: () => {
    const h = helpers();
    if (h.length === 0) return Promise.resolve("no helper running");
    const c = h[Math.floor(rand() * h.length)];
    signal(c.pid, "SIGKILL");
    return Promise.resolve(`${c.comm} ${c.pid}`);
  },
  helper_stop: async () => {
    const h = helpers();
    if (h.length === 0) return "no helper running";
    const c = h[Math.floor(rand() * h.length)];
    const hold = between(2, 8);
    signal(c.pid, "SIGSTOP");
    await sleep(hold);
    signal(c.pid, "SIGCONT");
    return `${c.comm} ${c.pid} for ${hold.toFixed(1)} s`;
  },
  hup_changed: () => {
    downBase = downBase === 20000 ? 22000 : 20000;
    Deno.writeTextFileSync(configPath, uci());
    signal(daemon.pid, "SIGHUP");
    return Promise.resolve(`download base now ${downBase}`);
  },
  hup_same: () => {
    signal(daemon.pid, "SIGHUP");
    return Promise.resolve("config unchanged");
  },
  stats_dir: async () => {
    await Deno.remove(statsDir, { recursive: true }).catch(() => {});
    return statsDir;
  },
};

for (const k of only ?? []) {
  if (!(k in FAULTS)) throw new Error(`--only: no fault ${k} (${Object.keys(FAULTS).join(", ")})`);
}
const faultCounts = new Map<string, number>();
const deadline = t0 + minutes * 60_000;
/** SIGINT (Ctrl-C) ends the run early, through the same end (SIGTERM, checks, clean-up). */
let interrupted = false;
Deno.addSignalListener("SIGINT", () => {
  interrupted = true;
  event("SIGINT: ending the run at the next step");
});
const running = () => Date.now() < deadline && daemonExit === undefined && !interrupted;

async function faultLoop(): Promise<void> {
  await sleep(Math.min(60, minutes * 10)); // control first
  while (running()) {
    const round = (only ?? Object.keys(FAULTS)).sort(() => rand() - 0.5);
    for (const name of round) {
      if (!running()) return;
      const before = messages.size;
      event(`fault ${name} ...`);
      const what = await FAULTS[name]();
      faultCounts.set(name, (faultCounts.get(name) ?? 0) + 1);
      event(`fault ${name} over: ${what}`);
      await sleep(SETTLE_S);
      if (daemonExit !== undefined) return;
      await checkShapers(name);
      if (messages.size > before + 0) { /* new kinds of messages are listed at the end */ }
      const quietUntil = Date.now() + Math.max(0, between(gapMin, gapMax) - SETTLE_S) * 1000;
      while (running() && Date.now() < quietUntil) await sleep(1); // ends at the deadline
    }
  }
}

async function loadLoop(): Promise<void> {
  const server = new Deno.Command("ip", {
    args: ["netns", "exec", F, "iperf3", "-s", "-B", "10.78.0.2"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await sleep(20);
    while (running()) {
      const on = Math.min(between(30, 90), (deadline - Date.now()) / 1000);
      if (on < 5) break;
      loadOn = true;
      const client = new Deno.Command("ip", {
        args: [
          ...["netns", "exec", R, "iperf3", "-c", "10.78.0.2", "--bidir", "-P", "2"],
          ...["-t", String(Math.round(on)), "--connect-timeout", "3000"],
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const killer = setTimeout(() => signal(client.pid, "SIGKILL"), (on + 15) * 1000);
      const s = await client.status;
      clearTimeout(killer);
      loadOn = false;
      if (!s.success) await sleep(2); // cut by a fault: the server frees itself
      await sleep(between(20, 60));
    }
  } finally {
    loadOn = false;
    signal(server.pid, "SIGKILL");
    await server.status;
  }
}

async function sampleLoop(): Promise<void> {
  while (running()) {
    const wake = Date.now() + Math.min(60_000, Math.max(1000, deadline - Date.now()));
    while (Date.now() < wake && !interrupted) await sleep(1);
    if (daemonExit !== undefined) return;
    await sample();
  }
}

// ---------------------------------------------------------------- the run

/** Least-squares slope of `ys` over `xs`, per unit of x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

let exitOk = false;
let left: string[] = [];
try {
  await setup();
  await Deno.writeTextFile(
    `${dir}/reflectors.csv`,
    "reflector_ip,ip_version,description\n" + REFLECTORS.map((a) => `${a},4,far ${a}\n`).join(""),
  );
  Deno.writeTextFileSync(configPath, uci());
  Deno.writeTextFileSync(
    `${out}_minutes.tsv`,
    "minute\trss_mb\theap_mb\tfds\tthreads\tchildren\tzombies\tchild_list\tdl_kbit\tul_kbit\tload\tlog_levels_prev_min\tfd_kinds\n",
  );
  event(`soak: ${minutes} min, controller ${controller}, seed ${seed}, namespaces ${R} ${F}`);
  startDaemon();
  await Promise.all([faultLoop(), loadLoop(), sampleLoop()]);
  if (daemonExit === undefined) {
    await routeReflectors().catch(() => {});
    await sleep(SETTLE_S);
    await checkShapers("the end");
    await sample();
    signal(daemon.pid, "SIGTERM");
    const killer = setTimeout(() => signal(daemon.pid, "SIGKILL"), 15_000);
    await daemon.status;
    clearTimeout(killer);
    await sleep(0.5);
    const dl = await rootQdisc(IFB);
    const ul = await rootQdisc(WAN);
    exitOk = dl?.kbit === downBase && ul?.kbit === UP_BASE;
    event(`exit ${daemonExit}: kernel dl ${dl?.kbit} ul ${ul?.kbit} (base ${downBase}/${UP_BASE})`);
  }
  const pids = (await sh("ip", ["netns", "pids", R])).out.split("\n").filter((l) => l !== "");
  left = pids.map((p) => `${p}:${readProc(Number(p))?.comm ?? "?"}`);
  for (const [pid, comm] of seenChildren) {
    const p = readProc(pid);
    if (p !== undefined && p.comm === comm) left.push(`${pid}:${comm}(seen child)`);
  }
  event(`left in ${R}: ${left.join(" ") || "nothing"}`);
} finally {
  try {
    if (daemonExit === undefined) signal(daemon.pid, "SIGKILL");
  } catch { /* not started */ }
  for (const ns of [R, F]) await sh("ip", ["netns", "del", ns]);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

const top = [...messages].sort((a, b) => b[1] - a[1]).slice(0, 25);
const report = [
  "",
  "faults: " + [...faultCounts].map(([k, v]) => `${k}×${v}`).join(" "),
  "log messages (normalised), most frequent:",
  ...top.map(([k, v]) => `${String(v).padStart(6)}  ${k}`),
];
// After a 5-minute warm-up: the second half against the first (a slope, not the heap's sawtooth).
const later = rows.filter((r) => r.minute >= 5);
const half = Math.floor(later.length / 2);
const [first, second] = [later.slice(0, half), later.slice(half)];
const growth = (f: (r: Row) => number) => median(second.map(f)) - median(first.map(f));
const floorGrowth = (f: (r: Row) => number) =>
  Math.min(...second.map(f)) - Math.min(...first.map(f));
const perMin = levelsByMinute.map((m) => [...m.values()].reduce((a, b) => a + b, 0));
report.push(
  `metric soak_minutes ${minutes} min`,
  `metric soak_rss_growth ${growth((r) => r.rssMb).toFixed(2)} MB`,
  `metric soak_rss_slope ${
    (slope(later.map((r) => r.minute), later.map((r) => r.rssMb)) * 60).toFixed(2)
  } MB/h`,
  `metric soak_heap_floor_growth ${floorGrowth((r) => r.heapMb).toFixed(2)} MB`,
  `metric soak_fd_growth ${growth((r) => r.fds).toFixed(1)} fds`,
  `metric soak_threads_growth ${growth((r) => r.threads).toFixed(1)} threads`,
  `metric soak_rss_max ${Math.max(...rows.map((r) => r.rssMb)).toFixed(1)} MB`,
  `metric soak_children_max ${Math.max(...rows.map((r) => r.children))} procs`,
  `metric soak_zombies_max ${Math.max(...rows.map((r) => r.zombies))} procs`,
  `metric soak_log_lines_per_min_max ${Math.max(...perMin)} lines`,
  `metric soak_shaper_bad_checks ${badChecks} of ${checks}`,
  `metric soak_exit_rate_ok ${exitOk ? 1 : 0}`,
  `metric soak_children_left ${left.length} procs`,
);
Deno.writeTextFileSync(`${out}_events.txt`, events.join("\n") + "\n" + report.join("\n") + "\n");
console.log(report.join("\n"));
