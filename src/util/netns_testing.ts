/**
 * Helpers for tests that need real network namespaces (root). Every namespace a test makes has
 * a unique name and is deleted afterwards, whatever happens; traffic stays inside it.
 */
import { defaultCommandRunner } from "./command.ts";

/** Runs a command; `ok` is a zero exit. */
export async function sh(
  cmd: string,
  args: readonly string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  const r = await defaultCommandRunner(cmd, args);
  return { ok: r.code === 0, out: r.stdout, err: r.stderr };
}

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export async function must(cmd: string, args: readonly string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(" ")}: ${r.err.trim()}`);
  return r.out;
}

/** Why namespace tests cannot run here (not root, no `ip netns`), or undefined when they can. */
export async function netnsSkipReason(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root";
  const r = await sh("ip", ["netns", "list"]);
  if (!r.ok) return `ip netns unavailable: ${r.err.trim()}`;
  return undefined;
}

/**
 * Creates a namespace named `<prefix>-<pid>` with `lo` up, runs `fn` with its name and always
 * deletes it afterwards.
 */
export async function withNetns<T>(prefix: string, fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `${prefix}-${Deno.pid}`;
  await sh("ip", ["netns", "del", ns]); // a leftover of a killed run
  await must("ip", ["netns", "add", ns]);
  try {
    await must("ip", ["-n", ns, "link", "set", "lo", "up"]);
    return await fn(ns);
  } finally {
    await sh("ip", ["netns", "del", ns]);
  }
}

/** Inside `ns`: a veth pair `a`–`b`, both up. */
export async function addVethPair(ns: string, a: string, b: string): Promise<void> {
  await must("ip", ["-n", ns, "link", "add", a, "type", "veth", "peer", "name", b]);
  for (const dev of [a, b]) await must("ip", ["-n", ns, "link", "set", dev, "up"]);
}

/**
 * A spawned child's piped stderr collected as text: `log()` is what came so far; `done` settles
 * when the stream ends (never rejects), for a test to await before its last look at `log()`.
 */
export function collectStderr(
  child: Deno.ChildProcess,
): { log: () => string; done: Promise<void> } {
  return collectText(child.stderr);
}

/** A piped stream collected as text, as {@linkcode collectStderr} collects stderr. */
export function collectText(
  stream: ReadableStream<Uint8Array>,
): { log: () => string; done: Promise<void> } {
  const chunks: string[] = [];
  const done = stream.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void chunks.push(chunk) }),
  ).catch(() => {});
  return { log: () => chunks.join(""), done };
}

/** Inside `ns`: each of `addresses` (IPv4) on `lo`, so that pings to them are answered. */
export async function addLoopbackHosts(ns: string, addresses: readonly string[]): Promise<void> {
  for (const a of addresses) await must("ip", ["-n", ns, "addr", "add", `${a}/32`, "dev", "lo"]);
}

/**
 * Inside `ns`: `cidr` routed out of a veth (`v0`–`v1`) nobody answers on, so that pings to it are
 * sent and never answered (unlike an address without a route, which the tools fail to send to).
 */
export async function addSilentRoute(ns: string, cidr: string): Promise<void> {
  await addVethPair(ns, "v0", "v1");
  await must("ip", ["-n", ns, "route", "add", cidr, "dev", "v0"]);
}

/**
 * Inside `ns`: a veth pair `a`–`b`, both up, each with a root `tbf` qdisc at 1 Mbit/s — the
 * shapers a daemon under test then re-tunes.
 */
export async function addTbfVethPair(ns: string, a: string, b: string): Promise<void> {
  await addVethPair(ns, a, b);
  for (const dev of [a, b]) {
    await must("tc", [
      ...["-n", ns, "qdisc", "add", "dev", dev, "root"],
      ...["tbf", "rate", "1mbit", "burst", "10kb", "latency", "20ms"],
    ]);
  }
}

/** The root qdisc of `dev` inside `ns` as tc reports it: rate in kbit/s, burst in bytes. */
export async function rootQdisc(
  ns: string,
  dev: string,
): Promise<{ kind: string; rateKbit: number; burst: number }> {
  const root = JSON.parse(await must("tc", ["-n", ns, "-j", "qdisc", "show", "dev", dev]))
    .find((q: { root?: boolean }) => q.root === true);
  return {
    kind: root.kind,
    rateKbit: (root.options?.rate ?? 0) * 8 / 1000,
    burst: root.options?.burst ?? 0,
  };
}

/**
 * The name and `ignore` flag of a test that needs something this machine may lack (root,
 * network namespaces): without it the test is ignored and its name carries the reason, so the
 * runner's own output shows why. Under CI (`CI=true`, where .ci/run runs as root) nothing is
 * ignored: the test runs and fails, so a broken environment cannot pass as green.
 */
export function needs(
  name: string,
  reason: string | undefined,
): { name: string; ignore: boolean } {
  if (reason === undefined) return { name, ignore: false };
  if (Deno.env.get("CI") === "true") return { name, ignore: false };
  return { name: `${name} (ignored: ${reason})`, ignore: true };
}

/**
 * Polls `read` every `everyMs` (default 100) until `ok` holds for its value; fails after `ms`
 * naming `what` and the last value read. Returns that value and the seconds it took.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  ok: (value: T) => boolean,
  options: { ms: number; what: string; everyMs?: number },
): Promise<{ value: T; seconds: number }> {
  const t0 = Date.now();
  let value = await read();
  while (!ok(value)) {
    if (Date.now() - t0 > options.ms) {
      throw new Error(`timed out waiting for ${options.what} (last: ${value})`);
    }
    await new Promise((r) => setTimeout(r, options.everyMs ?? 100));
    value = await read();
  }
  return { value, seconds: (Date.now() - t0) / 1000 };
}

/** Waits (30 s at most) until a daemon's log (`read`) shows "control started". */
export async function untilControlStarted(read: () => string | Promise<string>): Promise<void> {
  await pollUntil(read, (t) => t.includes("control started"), {
    ms: 30_000,
    what: '"control started"',
  });
}

/**
 * The directory the release permission set lets the daemon write: src/release/manifest.ts's
 * `STATS_DIR`, spelt here because src/util sits below src/release (tests/architecture's import
 * graph); tests/release/manifest_test.ts checks the two agree.
 */
export const DAEMON_RUNTIME_DIR = "/tmp/sqm-autorate/";

/**
 * Why this user cannot make directories in `DAEMON_RUNTIME_DIR`, or undefined when it can (or the
 * directory does not exist yet, so its first test makes it). It exists and is another user's when
 * a daemon ran there as root (`sudo deno task daemon run`, docs/install.md): then every test that
 * runs the daemon under its permission set fails with PermissionDenied. Nothing is made here.
 */
export function runtimeDirSkipReason(): string | undefined {
  try {
    Deno.removeSync(Deno.makeTempDirSync({ dir: DAEMON_RUNTIME_DIR, prefix: "probe-" }));
    return undefined;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    return `${DAEMON_RUNTIME_DIR} is not writable by uid ${Deno.uid()}: made by another user ` +
      "(a daemon run as root?); remove it";
  }
}

/**
 * A fresh directory for a daemon run under the release permission set (inside
 * `DAEMON_RUNTIME_DIR`), holding `reflectors.csv` with six loopback reflectors (the
 * namespace's own loopback answers the pinger). The caller removes it.
 */
export async function daemonRuntimeDir(prefix: string): Promise<string> {
  await Deno.mkdir(DAEMON_RUNTIME_DIR, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: DAEMON_RUNTIME_DIR, prefix });
  await Deno.writeTextFile(
    `${dir}/reflectors.csv`,
    "reflector_ip,ip_version,description\n" +
      [1, 2, 3, 4, 5, 6].map((i) => `127.0.0.${i},4,loopback ${i}\n`).join(""),
  );
  return dir;
}

/**
 * Inside `ns`: every IPv4 address local (a `local` default route on `lo`), so that pings to any
 * reflector, the embedded list's public ones too, are answered by the namespace itself.
 */
export async function addAnyIpHosts(ns: string): Promise<void> {
  await must("ip", ["-n", ns, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "local"]);
}

/**
 * Inside `ns` (after `addAnyIpHosts`): each of `addresses` (IPv4) sent out of a veth `s0`–`s1` to
 * a next hop that does not exist, so that probes to them leave on the wire and are never answered
 * (a device route without a neighbour would leave only ARP requests).
 */
export async function addSilentHosts(ns: string, addresses: readonly string[]): Promise<void> {
  await addVethPair(ns, "s0", "s1");
  await must("ip", ["-n", ns, "addr", "add", "10.213.254.1/30", "dev", "s0"]);
  await must("ip", [
    ...["-n", ns, "neigh", "add", "10.213.254.2", "lladdr", "02:00:00:00:00:02", "dev", "s0"],
    ...["nud", "permanent"],
  ]);
  for (const a of addresses) {
    await must("ip", [
      ...["-n", ns, "route", "add", `${a}/32`, "via", "10.213.254.2", "dev", "s0"],
      ...["table", "local"],
    ]);
  }
}

/** A running capture of the ICMP echo requests sent inside a namespace (`captureEchoRequests`). */
export interface EchoCapture {
  /** The send times captured so far (s, the kernel's wall clock, ascending). */
  times(): number[];
  /** The destination of each captured request, in order. */
  destinations(): string[];
  /** Stops tcpdump and returns every send time. */
  stop(): Promise<number[]>;
}

/**
 * Captures, with `tcpdump` on every interface of `ns`, the ICMP echo requests sent: those to a
 * local address (on `lo`) and those leaving by a veth, each once (a veth peer's copy is left out).
 * Resolves once tcpdump listens. Counted on the wire, not from the sender's own account.
 */
export async function captureEchoRequests(ns: string): Promise<EchoCapture> {
  const child = new Deno.Command("ip", {
    args: [
      ...["netns", "exec", ns, "tcpdump", "-i", "any", "-n", "-tt", "-l", "-Q", "inout"],
      "icmp[icmptype] == icmp-echo",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const times: number[] = [];
  const destinations: string[] = [];
  let rest = "";
  const reading = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write: (chunk) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          // "1796555646.690122 v0    Out IP 10.213.8.1 > 10.213.9.9: ICMP echo request, …"
          const m = /^(\d+\.\d+) (\S+)\s+(\S+)\s+IP \S+ > ([\d.]+):/.exec(line);
          // A frame for another host ("P") is the veth peer's copy of one sent.
          if (m === null || m[3] === "P") continue;
          times.push(Number(m[1]));
          destinations.push(m[4]);
        }
      },
    }),
  ).catch(() => {});
  const err = collectStderr(child);
  await pollUntil(err.log, (t) => t.includes("listening on"), {
    ms: 10_000,
    what: "tcpdump listening",
    everyMs: 20,
  });
  return {
    times: () => [...times],
    destinations: () => [...destinations],
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await reading;
      await err.done;
      return [...times];
    },
  };
}

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/**
 * Starts the daemon from source in `ns` as the release runs it (`main.ts ARGS` under
 * `-P=daemon`; `denoArgs` before `main.ts`, e.g. V8 flags), its stderr piped (stdout too with
 * `stdout: "piped"`), colours off, `env` added to the environment.
 */
export function spawnDaemonInNetns(
  ns: string,
  args: readonly string[],
  options: {
    denoArgs?: readonly string[];
    env?: Record<string, string>;
    stdout?: "piped" | "null";
  } = {},
): Deno.ChildProcess {
  return new Deno.Command("ip", {
    args: [
      ...["netns", "exec", ns, Deno.execPath(), "run", "-P=daemon", "--no-prompt"],
      ...["--config", `${ROOT}/deno.json`, ...(options.denoArgs ?? []), `${ROOT}/main.ts`, ...args],
    ],
    stdin: "null",
    stdout: options.stdout ?? "null",
    stderr: "piped",
    env: { ...options.env, NO_COLOR: "1" },
  }).spawn();
}

/** A daemon run by {@linkcode withSpawnedDaemon}, as its `body` sees it. */
export interface SpawnedDaemon {
  /** Its stderr so far. */
  log(): string;
  /** Its exit code once it has exited by itself, else undefined. */
  exited(): number | undefined;
  /** Sends it a signal. */
  kill(signal: Deno.Signal): void;
}

/**
 * Runs `sqm-autorate ARGS` in `ns` (as {@linkcode spawnDaemonInNetns}) for `body`, then stops it
 * with SIGTERM. Resolves to that stop's exit code and the whole log; rejects when `body` does, or
 * when the daemon exited by itself before the SIGTERM (killed then if still running).
 */
export async function withSpawnedDaemon(
  ns: string,
  args: readonly string[],
  body: (daemon: SpawnedDaemon) => Promise<void>,
): Promise<{ code: number; log: string }> {
  const child = spawnDaemonInNetns(ns, args);
  const { log, done: collecting } = collectStderr(child);
  let exited: number | undefined;
  void child.status.then((s) => exited = s.code);
  let code: number | undefined;
  try {
    await body({ log, exited: () => exited, kill: (signal) => child.kill(signal) });
    if (exited !== undefined) throw new Error(`the daemon exited by itself (${exited}): ${log()}`);
    child.kill("SIGTERM");
    code = (await child.status).code;
  } finally {
    if (exited === undefined && code === undefined) child.kill("SIGKILL");
    await child.status;
    await collecting;
  }
  return { code, log: log() };
}

/** The distinct values `read` gave, every 50 ms from before `during` until it ended. */
export async function sampledWhile<T>(
  read: () => Promise<T>,
  during: () => Promise<void>,
): Promise<T[]> {
  const seen = new Set<T>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      seen.add(await read());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    await during();
  } finally {
    sampling = false;
    await sampler;
  }
  return [...seen];
}

/** How often `part` occurs in `text`. */
export function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

/**
 * The UCI text of a daemon run in a namespace by a reload test: interfaces `ul`/`dl` over `tbf`
 * shapers (upload base 10000 kbit/s), fping, INFO log without statistics, state (unless
 * `stateDir`) and reflector list in `dir` (from `daemonRuntimeDir`). `head` is a first line (e.g. a comment), `tail` the
 * sections after `advanced_settings` (e.g. `config plugins`).
 */
export function daemonUci(
  dir: string,
  options: {
    ul: string;
    dl: string;
    dlBaseKbits: number;
    head?: string;
    tail?: string;
    /** `state_dir` (default `dir`). */
    stateDir?: string;
  },
): string {
  return [
    ...(options.head === undefined ? [] : [options.head]),
    "config network",
    `\toption upload_interface '${options.ul}'`,
    `\toption download_interface '${options.dl}'`,
    "\toption upload_base_kbits '10000'",
    `\toption download_base_kbits '${options.dlBaseKbits}'`,
    "config output",
    "\toption log_level 'INFO'",
    "\toption suppress_statistics '1'",
    "config advanced_settings",
    "\toption shaper 'tbf'",
    "\toption pinger 'fping'",
    `\toption state_dir '${options.stateDir ?? dir}'`,
    `\toption reflector_list_file '${dir}/reflectors.csv'`,
    options.tail ?? "",
    "",
  ].join("\n");
}
