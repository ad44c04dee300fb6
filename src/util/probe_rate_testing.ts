/**
 * The ICMP echo requests the real daemon sends, counted on the wire in a private network namespace
 * (root; docs/controllers.md, "v86"; issue 11: at most 20 a second): `probeRateRun` for
 * scripts/probe_rate.ts and the netns tests.
 */
import {
  addAnyIpHosts,
  addSilentHosts,
  addTbfVethPair,
  captureEchoRequests,
  collectStderr,
  daemonRuntimeDir,
  pollUntil,
  spawnDaemonInNetns,
  withNetns,
} from "./netns_testing.ts";
import { mostInWindow, mostPerWholeSecond, windowsOver } from "./window_count.ts";

/** One run's figures. */
export interface ProbeRateRun {
  /** Requests captured. */
  sent: number;
  /** Seconds from the first to the last. */
  spanS: number;
  /** The most within one whole second. */
  wholeSecond: number;
  /** The most within any 1 s window. */
  window: number;
  /** Windows above 20: start (s after the first request), count, destinations probed. */
  over: { atS: number; count: number; probed: string }[];
  /** The daemon's log. */
  log: string;
}

/** Options of `probeRateRun`. */
export interface ProbeRateOptions {
  /** How long to capture, s. */
  seconds: number;
  /** A list file of this many answering reflectors (default: the embedded list). */
  live?: number;
  /** … and this many silent ones. */
  silent?: number;
  /** With the embedded list: these of its reflectors silent (their probes never answered). */
  silence?: readonly string[];
  /** SIGHUPs, s after the daemon's control started. */
  hupAtS?: readonly number[];
  /** Ends the run early, `tailS` after the daemon's log first satisfies this. */
  stopWhen?: { log: (text: string) => boolean; tailS: number };
  /** Namespace name prefix. */
  prefix?: string;
  /** Setting `pinger` (default fping). */
  pinger?: "fping" | "ping";
  /** Setting `tick_interval`, s (default: the daemon's). */
  tickS?: number;
}

function uci(dir: string, o: { list: boolean; pinger: string; tickS?: number }): string {
  return [
    "config network",
    "\toption upload_interface 'prul'",
    "\toption download_interface 'prdl'",
    "\toption upload_base_kbits '10000'",
    "\toption download_base_kbits '50000'",
    "config output",
    "\toption log_level 'DEBUG'",
    "\toption suppress_statistics '1'",
    "config advanced_settings",
    "\toption shaper 'tbf'",
    `\toption pinger '${o.pinger}'`,
    o.tickS === undefined ? "" : `\toption tick_interval '${o.tickS}'`,
    `\toption state_dir '${dir}'`,
    o.list ? `\toption reflector_list_file '${dir}/reflectors.csv'` : "",
    "",
  ].join("\n");
}

/** Runs the daemon in a fresh namespace for `o.seconds` and counts its echo requests. */
export function probeRateRun(o: ProbeRateOptions): Promise<ProbeRateRun> {
  return withNetns(o.prefix ?? "sqma-rate", async (ns) => {
    await addTbfVethPair(ns, "prdl", "prul");
    await addAnyIpHosts(ns);
    const live = Array.from({ length: o.live ?? 0 }, (_, i) => `10.213.1.${i + 1}`);
    const silent = Array.from({ length: o.silent ?? 0 }, (_, i) => `10.213.9.${i + 1}`);
    const unanswered = [...silent, ...(o.silence ?? [])];
    if (unanswered.length > 0) await addSilentHosts(ns, unanswered);
    const dir = await daemonRuntimeDir("rate-");
    const list = live.length + silent.length > 0;
    if (list) {
      await Deno.writeTextFile(
        `${dir}/reflectors.csv`,
        "reflector_ip,ip_version,description\n" +
          [...live, ...silent].map((ip) => `${ip},4,test\n`).join(""),
      );
    }
    const config = `${dir}/sqm-autorate`;
    await Deno.writeTextFile(
      config,
      uci(dir, { list, pinger: o.pinger ?? "fping", tickS: o.tickS }),
    );
    const capture = await captureEchoRequests(ns);
    const child = spawnDaemonInNetns(ns, ["run", "--config", config]);
    const { log, done } = collectStderr(child);
    try {
      await pollUntil(log, (t) => t.includes("control started"), {
        ms: 30_000,
        what: "control started",
      });
      const t0 = Date.now();
      for (const at of [...(o.hupAtS ?? [])].sort((a, b) => a - b)) {
        await new Promise((r) => setTimeout(r, Math.max(0, at * 1000 - (Date.now() - t0))));
        child.kill("SIGHUP");
      }
      const left = () => Math.max(0, o.seconds * 1000 - (Date.now() - t0));
      if (o.stopWhen !== undefined) {
        const when = o.stopWhen;
        const hit = await pollUntil(log, when.log, { ms: left(), what: "the log's stop condition" })
          .then(() => true, () => false);
        if (hit) await new Promise((r) => setTimeout(r, Math.min(left(), when.tailS * 1000)));
      } else await new Promise((r) => setTimeout(r, left()));
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await done;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    const destinations = capture.destinations();
    const times = await capture.stop();
    const first = times[0] ?? 0;
    const over = windowsOver(times, { widthS: 1, limit: 20 }).map((w) => {
      const i = times.indexOf(w.startS);
      const probed = new Map<string, number>();
      for (let j = i; j < times.length && times[j] < w.startS + 1; j++) {
        probed.set(destinations[j], (probed.get(destinations[j]) ?? 0) + 1);
      }
      return {
        atS: Math.round((w.startS - first) * 1000) / 1000,
        count: w.count,
        probed: [...probed].map(([ip, n]) => `${ip}×${n}`).join(" "),
      };
    });
    return {
      sent: times.length,
      spanS: (times.at(-1) ?? first) - first,
      wholeSecond: mostPerWholeSecond(times),
      window: mostInWindow(times, 1),
      over,
      log: log(),
    };
  });
}
