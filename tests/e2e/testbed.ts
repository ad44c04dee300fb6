/**
 * Network-namespace testbed: client ↔ router ↔ isp ↔ server, joined by veth pairs that are
 * created directly inside the namespaces, with addresses from 10.213.0.0/16 that exist only there.
 * Nothing is routed out of the namespaces (the ISP namespace has no default route), so no traffic
 * can leave them.
 *
 * - isp: a `tbf` bottleneck per direction with a deep buffer (bufferbloat); its rate is changed
 *   on a schedule by the scenarios.
 * - router: the shaper the daemon controls, on the WAN egress (upload) and the LAN egress
 *   (download); `tbf` root qdiscs or an `htb` class 1:1 with a `bfifo` leaf; `htb-icmp` is `htb`
 *   with ICMP in a child class of its own under 1:1, served first (CAKE's sparse-flow priority,
 *   approximately: the probes skip the router's FIFO).
 * - server: answers ICMP on several /32 reflector addresses and runs `iperf3 -s`.
 *
 * Cleanup is synchronous so it also works from signal and unload handlers.
 */
import { mustSync, pidAlive, runSync } from "./cmd.ts";

/** Addresses used by the testbed (all inside its namespaces). */
export const ADDR = {
  clientLan: "10.213.1.2",
  routerLan: "10.213.1.1",
  routerWan: "10.213.2.2",
  ispCpe: "10.213.2.1",
  ispSrv: "10.213.3.1",
  server: "10.213.3.2",
  /** Reflectors for the daemon (/32 on the server's loopback). */
  reflectors: [
    "10.213.100.1",
    "10.213.100.2",
    "10.213.100.3",
    "10.213.100.4",
    "10.213.100.5",
    "10.213.100.6",
  ],
  /** Target of the independent RTT probe (not given to the daemon). */
  probe: "10.213.100.100",
} as const;

/** Interface names (namespace-local, so they never collide between runs). */
export const IFACE = {
  clientLan: "lan0",
  routerLan: "lan",
  routerWan: "wan",
  ispCpe: "cpe",
  ispSrv: "srv",
  server: "up0",
} as const;

/** Prefix of every namespace this harness creates; the pid follows. */
export const NS_PREFIX = "sqmae2e-";

/** Router shaper flavours (docs/e2e.md, "Topology"). */
export const SHAPER_KINDS = ["tbf", "htb", "htb-icmp"] as const;

/** Router shaper flavour. */
export type ShaperKind = (typeof SHAPER_KINDS)[number];

/** The shaper the daemon is told of: `htb-icmp` is an HTB whose class 1:1 the daemon sets. */
export function daemonShaper(kind: ShaperKind): "tbf" | "htb" {
  return kind === "tbf" ? "tbf" : "htb";
}

/** `SQMA_E2E_SHAPER`'s value (default `tbf`); throws on others. */
export function shaperKind(value: string | undefined): ShaperKind {
  const kind = value ?? "tbf";
  if (!(SHAPER_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`SQMA_E2E_SHAPER: expected one of ${SHAPER_KINDS.join(", ")}`);
  }
  return kind as ShaperKind;
}

/** Traffic direction. */
export type Direction = "down" | "up";

/** Options for {@linkcode Testbed.create}. */
export interface TestbedOptions {
  /** Router shaper flavour. */
  readonly shaper: ShaperKind;
  /** Initial ISP download capacity, kbit/s. */
  readonly ispDownKbit: number;
  /** Initial ISP upload capacity, kbit/s. */
  readonly ispUpKbit: number;
  /** ISP buffer depth in ms (the bufferbloat). */
  readonly ispBufferMs: number;
  /** Router shaper buffer in ms (tbf latency; htb: bfifo sized for the initial ISP rate). */
  readonly routerBufferMs: number;
  /** Initial router shaper rates, kbit/s. */
  readonly routerDownKbit: number;
  /** Initial router upload shaper rate, kbit/s. */
  readonly routerUpKbit: number;
  /**
   * TCP congestion control of the client and server namespaces (new namespaces inherit the
   * host's default, so it is pinned for reproducible runs). Default `bbr`; a child namespace
   * accepts only the host's allowed list (here reno, bbr).
   */
  readonly congestionControl?: string;
  /** A temp directory (under /tmp) the watchdog deletes after an interrupted run. */
  readonly tempDir?: string;
  /**
   * Namespace name prefix (default {@linkcode NS_PREFIX}); the pid follows. Another prefix keeps
   * the testbed out of reach of {@linkcode removeStaleNamespaces} in other, older checkouts.
   */
  readonly namePrefix?: string;
}

/** Namespace names of one testbed. */
export interface Namespaces {
  /** Runs the load generator and the independent RTT probe. */
  readonly client: string;
  /** Runs the shaper and the daemon. */
  readonly router: string;
  /** Holds the bottleneck. */
  readonly isp: string;
  /** Reflectors and iperf3 server. */
  readonly server: string;
}

/** Token bucket size: ~2 ms of data, at least a few full-size packets. */
function burstBytes(kbit: number): number {
  return Math.max(6000, Math.round((kbit * 1000 / 8) * 0.002));
}

/** Deletes namespaces left behind by harness runs whose process no longer exists. */
export function removeStaleNamespaces(): string[] {
  const out = runSync(["ip", "netns", "list"]).stdout;
  const removed: string[] = [];
  for (const line of out.split("\n")) {
    const name = line.trim().split(/\s+/)[0];
    const m = /^sqmae2e-(\d+)-[a-z]+$/.exec(name ?? "");
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === Deno.pid || pidAlive(pid)) continue;
    killNamespacePids(name);
    runSync(["ip", "netns", "del", name]);
    removed.push(name);
  }
  return removed;
}

/** Kills (SIGKILL, by pid) every process still running inside one of our namespaces. */
function killNamespacePids(ns: string): void {
  const pids = runSync(["ip", "netns", "pids", ns]).stdout.split(/\s+/).filter((s) => s !== "");
  for (const p of pids) {
    const pid = Number(p);
    if (!Number.isInteger(pid) || pid <= 1 || pid === Deno.pid) continue;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
}

/**
 * Shell watchdog: waits (at most an hour) for this Deno process to end, then kills what is left in
 * our namespaces and deletes them. `deno test` handles Ctrl-C itself and exits without running
 * `finally` blocks, signal listeners or unload handlers, so this is what cleans up after an
 * interrupted run. It ignores SIGINT/SIGTERM/SIGHUP so a Ctrl-C to the process group does not
 * stop it.
 */
const WATCHDOG_SCRIPT = `trap '' INT TERM HUP
parent="$1"; dir="$2"; shift 2
i=0
while kill -0 "$parent" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 7200 ]; then exit 0; fi
  sleep 0.5
done
for ns in "$@"; do
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  ip netns del "$ns" 2>/dev/null
done
if [ -n "$dir" ] && [ -d "$dir" ]; then rm -rf -- "$dir"; fi
exit 0`;

function startWatchdog(namespaces: readonly string[], tempDir?: string): Deno.ChildProcess {
  // Only a directory of ours under /tmp, never anything else.
  const dir = tempDir !== undefined && /^\/tmp\/[\w./-]+$/.test(tempDir) && !tempDir.includes("..")
    ? tempDir
    : "";
  const child = new Deno.Command("sh", {
    args: ["-c", WATCHDOG_SCRIPT, "sqma-e2e-watchdog", String(Deno.pid), dir, ...namespaces],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Do not keep the event loop alive for it.
  child.unref();
  return child;
}

/** Returns a reason string when network namespaces cannot be used here, else `undefined`. */
export function netnsUnavailableReason(): string | undefined {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return `not root (uid ${Deno.uid()})`;
  for (const tool of ["ip", "tc", "ss", "fping", "iperf3"]) {
    const r = runSync(["sh", "-c", 'command -v "$0"', tool]);
    if (r.code !== 0) return `${tool} not found in PATH (apt packages: iproute2 fping iperf3)`;
  }
  const probe = `${NS_PREFIX}${Deno.pid}-probe`;
  const add = runSync(["ip", "netns", "add", probe]);
  if (add.code !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  runSync(["ip", "netns", "del", probe]);
  return undefined;
}

/** The router's HTB class that the daemon sets. */
const HTB_CLASSID = "1:1";
/** `htb-icmp`: the child class of ICMP under 1:1. */
const HTB_ICMP_CLASSID = "1:10";
/** `htb-icmp`: the child class of everything else (the root's default), with the bfifo. */
const HTB_BULK_CLASSID = "1:20";
/** `htb-icmp`: the children's ceil, above any rate the daemon sets on 1:1. */
const HTB_CHILD_CEIL = "2gbit";

/** The rate (kbit/s) of HTB class `classid` in `tc class show` text, e.g. `rate 200Mbit`. */
export function htbRateKbit(text: string, classid: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`class htb ${classid} `));
  const m = / rate (\d+(?:\.\d+)?)([KMG]?)bit /.exec(line ?? "");
  if (m === null) return undefined;
  return Number(m[1]) * { "": 1e-3, K: 1, M: 1e3, G: 1e6 }[m[2] as "" | "K" | "M" | "G"];
}

/** `tc` arguments for the router's HTB class 1:1 at `kbit` (rate = ceil). */
function htbClassArgs(verb: "add" | "change", dev: string, kbit: number): string[] {
  const rate = `${kbit}kbit`;
  return [
    "class",
    verb,
    "dev",
    dev,
    "parent",
    "1:",
    "classid",
    HTB_CLASSID,
    "htb",
    "rate",
    rate,
    "ceil",
    rate,
  ];
}
/** A running testbed. Call {@linkcode Testbed.destroy} in a `finally`. */
export class Testbed {
  /** Namespace names. */
  readonly ns: Namespaces;
  /** Options the testbed was built with. */
  readonly options: TestbedOptions;
  /** The TCP congestion control the client and server namespaces use. */
  congestionControl = "";
  readonly #children = new Set<Deno.ChildProcess>();
  #watchdog: Deno.ChildProcess | undefined;
  #destroyed = false;

  private constructor(options: TestbedOptions) {
    const base = `${options.namePrefix ?? NS_PREFIX}${Deno.pid}`;
    this.ns = {
      client: `${base}-c`,
      router: `${base}-r`,
      isp: `${base}-i`,
      server: `${base}-s`,
    };
    this.options = options;
  }

  /** Builds the topology; on any failure tears down what was built and rethrows. */
  static create(options: TestbedOptions): Testbed {
    const tb = new Testbed(options);
    try {
      tb.#watchdog = startWatchdog(Object.values(tb.ns), options.tempDir);
      tb.#build();
    } catch (e) {
      tb.destroy();
      throw e;
    }
    return tb;
  }

  /** `ip netns exec <ns> …argv` as an argument array. */
  exec(ns: string, argv: readonly string[]): string[] {
    return ["ip", "netns", "exec", ns, ...argv];
  }

  /** Registers a child process so {@linkcode destroy} kills it. */
  track(child: Deno.ChildProcess): Deno.ChildProcess {
    this.#children.add(child);
    child.status.finally(() => this.#children.delete(child));
    return child;
  }

  /**
   * Sets the ISP bottleneck rate of one direction (buffer depth in ms stays the same). The burst
   * stays the one of the initial rate when `kbit` is lower: TBF never sends a queued (GSO) packet
   * larger than a later, smaller burst, and a step down from 200 to 80 Mbit/s (50 kB → 20 kB)
   * wedged the ISP's queue for the whole dip (docs/e2e.md, "Schedules").
   */
  setIspRate(dir: Direction, kbit: number): void {
    const dev = dir === "down" ? IFACE.ispCpe : IFACE.ispSrv;
    const initial = dir === "down" ? this.options.ispDownKbit : this.options.ispUpKbit;
    mustSync(this.exec(
      this.ns.isp,
      this.#tbfArgs("change", dev, {
        kbit,
        latencyMs: this.options.ispBufferMs,
        burstKbit: Math.max(kbit, initial),
      }),
    ));
  }

  /** Sets the router shaper rate of one direction (what the daemon would do). */
  setRouterRate(dir: Direction, kbit: number): void {
    const dev = dir === "down" ? IFACE.routerLan : IFACE.routerWan;
    if (this.options.shaper === "tbf") {
      mustSync(
        this.exec(
          this.ns.router,
          this.#tbfArgs("change", dev, { kbit, latencyMs: this.options.routerBufferMs }),
        ),
      );
    } else {
      mustSync(this.exec(this.ns.router, ["tc", ...htbClassArgs("change", dev, kbit)]));
    }
  }

  /** Current router shaper rate of one direction in kbit/s, read back from `tc`. */
  routerRate(dir: Direction): number {
    const dev = dir === "down" ? IFACE.routerLan : IFACE.routerWan;
    if (daemonShaper(this.options.shaper) === "htb") {
      // tc 6.1 prints HTB classes as text even with -j.
      const out = mustSync(this.exec(this.ns.router, ["tc", "class", "show", "dev", dev]));
      const kbit = htbRateKbit(out, HTB_CLASSID);
      if (kbit === undefined) throw new Error(`no htb class ${HTB_CLASSID} rate on ${dev}`);
      return kbit;
    }
    const out = mustSync(this.exec(this.ns.router, ["tc", "-j", "qdisc", "show", "dev", dev]));
    const rows = JSON.parse(out) as { kind?: string; options?: { rate?: number } }[];
    const rate = rows.find((r) => r.kind === "tbf")?.options?.rate;
    if (typeof rate !== "number") throw new Error(`no tbf rate on ${dev}`);
    return (rate * 8) / 1000; // tc -j reports bytes/s
  }

  /** Kills tracked children and leftover processes, deletes the namespaces. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const child of this.#children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }
    for (const ns of Object.values(this.ns)) {
      killNamespacePids(ns);
      runSync(["ip", "netns", "del", ns]);
    }
    // Last, so that an interrupted destroy() still leaves the watchdog to finish the job.
    try {
      this.#watchdog?.kill("SIGKILL");
    } catch {
      // already exited
    }
  }

  /** `tc … tbf` at `kbit` with the burst for `burstKbit` (default `kbit`). */
  #tbfArgs(
    verb: "add" | "change",
    dev: string,
    o: { kbit: number; latencyMs: number; burstKbit?: number },
  ): string[] {
    const { kbit, latencyMs, burstKbit = kbit } = o;
    return [
      "tc",
      "qdisc",
      verb,
      "dev",
      dev,
      "root",
      "tbf",
      "rate",
      `${kbit}kbit`,
      "burst",
      String(burstBytes(burstKbit)),
      "latency",
      `${latencyMs}ms`,
    ];
  }

  /**
   * The router's HTB on `dev`: class 1:1 at `kbit` (the one the daemon sets) with a `bfifo` of
   * `limit` bytes; with `icmpClass` the bfifo hangs under a child 1:20 (the root's default) and
   * ICMP goes to a child 1:10 served first (prio 0, within its assured rate) with HTB's own pfifo,
   * so the probes skip the bulk FIFO as CAKE's sparse flows do. The daemon reads one bfifo leaf
   * either way (a leaf without a qdisc counts only when it is the default: shaper_queue.ts).
   */
  #addHtb(dev: string, o: { kbit: number; limit: number; icmpClass: boolean }): void {
    const tc = (...args: string[]) => mustSync(this.exec(this.ns.router, ["tc", ...args]));
    const fifoParent = o.icmpClass ? HTB_BULK_CLASSID : HTB_CLASSID;
    tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", fifoParent.slice(2));
    tc(...htbClassArgs("add", dev, o.kbit));
    if (o.icmpClass) {
      // Children borrow all they send beyond a token rate from 1:1, whose rate = ceil bounds
      // them; their ceil stays above any rate the daemon sets.
      const child = (classid: string, rate: string, prio: number) =>
        tc(
          ...["class", "add", "dev", dev, "parent", HTB_CLASSID, "classid", classid, "htb"],
          ...["rate", rate, "ceil", HTB_CHILD_CEIL, "cburst", "64k"],
          ...["prio", String(prio), "quantum", "1514"],
        );
      child(HTB_ICMP_CLASSID, "1mbit", 0);
      child(HTB_BULK_CLASSID, "8kbit", 1);
      tc(
        ...["filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio", "1"],
        ...["u32", "match", "ip", "protocol", "1", "0xff", "flowid", HTB_ICMP_CLASSID],
      );
    }
    tc(
      "qdisc",
      "add",
      "dev",
      dev,
      "parent",
      fifoParent,
      "handle",
      "10:",
      "bfifo",
      "limit",
      String(o.limit),
    );
  }

  #build(): void {
    const { ns, options } = this;
    for (const n of Object.values(ns)) {
      mustSync(["ip", "netns", "add", n]);
      mustSync(["ip", "-n", n, "link", "set", "lo", "up"]);
    }
    const veth = (a: string, aNs: string, b: string, bNs: string) =>
      mustSync([
        "ip",
        "link",
        "add",
        a,
        "netns",
        aNs,
        "type",
        "veth",
        "peer",
        "name",
        b,
        "netns",
        bNs,
      ]);
    veth(IFACE.clientLan, ns.client, IFACE.routerLan, ns.router);
    veth(IFACE.routerWan, ns.router, IFACE.ispCpe, ns.isp);
    veth(IFACE.ispSrv, ns.isp, IFACE.server, ns.server);

    const addr = (n: string, dev: string, cidr: string) => {
      mustSync(["ip", "-n", n, "addr", "add", cidr, "dev", dev]);
      mustSync(["ip", "-n", n, "link", "set", dev, "up"]);
    };
    addr(ns.client, IFACE.clientLan, `${ADDR.clientLan}/24`);
    addr(ns.router, IFACE.routerLan, `${ADDR.routerLan}/24`);
    addr(ns.router, IFACE.routerWan, `${ADDR.routerWan}/24`);
    addr(ns.isp, IFACE.ispCpe, `${ADDR.ispCpe}/24`);
    addr(ns.isp, IFACE.ispSrv, `${ADDR.ispSrv}/24`);
    addr(ns.server, IFACE.server, `${ADDR.server}/24`);
    for (const a of [...ADDR.reflectors, ADDR.probe]) {
      mustSync(["ip", "-n", ns.server, "addr", "add", `${a}/32`, "dev", "lo"]);
    }

    const route = (n: string, ...spec: string[]) =>
      mustSync(["ip", "-n", n, "route", "add", ...spec]);
    route(ns.client, "default", "via", ADDR.routerLan);
    route(ns.router, "default", "via", ADDR.ispCpe);
    // The ISP deliberately has no default route: nothing can leave the testbed.
    route(ns.isp, "10.213.1.0/24", "via", ADDR.routerWan);
    route(ns.isp, "10.213.100.0/24", "via", ADDR.server);
    route(ns.server, "default", "via", ADDR.ispSrv);
    for (const n of [ns.router, ns.isp]) {
      // /proc/sys/net belongs to the namespace of the writer (no procps needed for sysctl).
      mustSync(this.exec(n, ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]));
    }
    // The first algorithm the namespaces accept (a child namespace may only use the host's
    // allowed list, which need not include cubic).
    const wanted = (options.congestionControl ?? "cubic,reno").split(",");
    for (const cc of wanted) {
      if (!/^[a-z0-9_]+$/.test(cc)) throw new Error(`bad congestion control name "${cc}"`);
    }
    const accepted = wanted.find((cc) =>
      [ns.client, ns.server].every((n) =>
        runSync(this.exec(n, [
          "sh",
          "-c",
          'echo "$0" > /proc/sys/net/ipv4/tcp_congestion_control',
          cc,
        ])).code === 0
      )
    );
    if (accepted === undefined) {
      throw new Error(`none of the TCP congestion controls ${wanted.join(", ")} is allowed here`);
    }
    this.congestionControl = accepted;

    // ISP bottleneck with a deep buffer: download leaves towards the router, upload towards the
    // server.
    mustSync(this.exec(
      ns.isp,
      this.#tbfArgs("add", IFACE.ispCpe, {
        kbit: options.ispDownKbit,
        latencyMs: options.ispBufferMs,
      }),
    ));
    mustSync(this.exec(
      ns.isp,
      this.#tbfArgs("add", IFACE.ispSrv, {
        kbit: options.ispUpKbit,
        latencyMs: options.ispBufferMs,
      }),
    ));

    // Router shaper: download on the LAN egress, upload on the WAN egress.
    const shaped: [string, number, number][] = [
      [IFACE.routerLan, options.routerDownKbit, options.ispDownKbit],
      [IFACE.routerWan, options.routerUpKbit, options.ispUpKbit],
    ];
    for (const [dev, kbit, refKbit] of shaped) {
      if (options.shaper === "tbf") {
        mustSync(
          this.exec(
            ns.router,
            this.#tbfArgs("add", dev, { kbit, latencyMs: options.routerBufferMs }),
          ),
        );
      } else {
        // A fixed byte queue: routerBufferMs worth of data at the ISP's initial capacity.
        const limit = Math.max(
          15_000,
          Math.round((refKbit * 1000 / 8) * options.routerBufferMs / 1000),
        );
        this.#addHtb(dev, { kbit, limit, icmpClass: options.shaper === "htb-icmp" });
      }
    }
  }
}
