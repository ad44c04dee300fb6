/**
 * The pinger's slow group (`ProbePlan.slow`, docs/algorithm.md §8.3) with the real fping and
 * iputils ping inside a private network namespace (root only): the main and the slow children
 * run side by side at their own periods, a change of the slow group leaves the main child
 * running, and a slow reflector nobody answers is no news (no WARN).
 */
import { assert, assertEquals } from "../util/assert.ts";
import { systemClock } from "../util/clock.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, resetLogging } from "../log/mod.ts";
import { choosePinger } from "./backends.ts";
import { ProcessPinger } from "./pinger.ts";
import type { PingerTool, PingReply, ProbePlan } from "./types.ts";
import {
  addLoopbackHosts,
  addSilentRoute,
  must,
  needs,
  netnsSkipReason,
  pollUntil,
  sh,
  withNetns,
} from "../util/netns_testing.ts";

/** Answer on the namespace's lo. */
const MAIN = ["10.213.0.1", "10.213.0.2"];
const SLOW_LIVE = "10.213.0.3";
const SLOW_LIVE_2 = "10.213.0.4";
/** Routed out of a veth nobody answers on. */
const DEAD = "10.213.9.9";
/** No route to it in the namespace: the tool fails to send at once. */
const UNROUTED = "10.214.0.1";
const TICK_S = 0.1;
const SLOW_PERIOD_S = 1;

/** A namespace where MAIN and the SLOW_LIVE addresses answer on lo and DEAD never does. */
function withHosts(fn: (ns: string) => Promise<void>): Promise<void> {
  return withNetns("sqma-slow", async (ns) => {
    await addLoopbackHosts(ns, [...MAIN, SLOW_LIVE, SLOW_LIVE_2]);
    await addSilentRoute(ns, "10.213.9.0/24");
    await fn(ns);
  });
}

/** The `tool` processes inside `ns`: pid and command line. */
async function toolProcs(ns: string, tool: PingerTool): Promise<{ pid: number; argv: string[] }[]> {
  const out: { pid: number; argv: string[] }[] = [];
  for (const pid of (await must("ip", ["netns", "pids", ns])).split(/\s+/).filter(Boolean)) {
    // Deno reads /proc/PID only with all permissions.
    const r = await sh("cat", [`/proc/${pid}/cmdline`]);
    if (!r.ok) continue; // exited meanwhile
    const argv = r.out.split("\0").filter(Boolean);
    if (argv[0]?.split("/").at(-1) === tool) out.push({ pid: Number(pid), argv });
  }
  return out;
}

/** The period a command line asks for, s (fping `--period` ms, ping `-i` s). */
function periodOf(tool: PingerTool, argv: readonly string[]): number {
  if (tool === "fping") return Number(argv[argv.indexOf("--period") + 1]) / 1000;
  return Number(argv[argv.indexOf("-i") + 1]);
}

/** The processes probing `ip` (its address is the last argument or one of them). */
function probing(procs: { pid: number; argv: string[] }[], ip: string): number[] {
  return procs.filter((p) => p.argv.includes(ip)).map((p) => p.pid).sort();
}

async function newPinger(
  tool: PingerTool,
  ns: string,
  got: PingReply[],
): Promise<ProcessPinger> {
  const prefix = ["ip", "netns", "exec", ns];
  const choice = await choosePinger(tool, { commandPrefix: prefix });
  return new ProcessPinger({
    tool,
    binary: choice.binary,
    fping: choice.fping,
    mode: "echo",
    tickS: TICK_S,
    clock: systemClock,
    commandPrefix: prefix,
    onReply: (r) => got.push(r),
  });
}

function plan(slow: string[]): ProbePlan {
  return slow.length ? { periodS: TICK_S, slow: { reflectors: slow, periodS: SLOW_PERIOD_S } } : {
    periodS: TICK_S,
  };
}

/**
 * Gives the same set again `times` times, a tick apart (the selector finding nothing better):
 * each call looks for silent children (`#restartSilent`).
 */
async function repeatSet(p: ProcessPinger, set: string[], slow: string[], times: number) {
  let calls = 0;
  await pollUntil(
    async () => {
      await p.setReflectors(set, plan(slow));
      return ++calls;
    },
    (n) => n >= times,
    { ms: 30_000, what: "repeated sets", everyMs: TICK_S * 1000 },
  );
}

const reason = await netnsSkipReason();

for (const tool of ["fping", "ping"] as const) {
  Deno.test(
    needs(`netns: ${tool} runs a slow group beside the main set, apart and at its period`, reason),
    () =>
      withHosts(async (ns) => {
        const got: PingReply[] = [];
        const from = (ip: string) => got.filter((r) => r.reflector === ip).length;
        const p = await newPinger(tool, ns, got);
        try {
          await p.start(MAIN);
          const slow = [SLOW_LIVE, DEAD];
          await p.setReflectors([...MAIN, ...slow], plan(slow));
          await pollUntil(() => toolProcs(ns, tool), (ps) =>
            ps.length === (tool === "ping" ? 4 : 2), {
            ms: 5000,
            what: `${tool} processes`,
          });
          const procs = await toolProcs(ns, tool);
          for (const ip of MAIN) {
            const [pid] = probing(procs, ip);
            const argv = procs.find((q) =>
              q.pid === pid
            )!.argv;
            assertEquals(periodOf(tool, argv), TICK_S, argv.join(" "));
            for (const s of slow) assert(!argv.includes(s), `main child probes ${s}: ${argv}`);
          }
          for (const ip of slow) {
            const [pid] = probing(procs, ip);
            const argv = procs.find((q) => q.pid === pid)!.argv;
            assertEquals(periodOf(tool, argv), SLOW_PERIOD_S, argv.join(" "));
            for (const m of MAIN) assert(!argv.includes(m), `slow child probes ${m}: ${argv}`);
          }
          // Replies from both groups; the slow live one answers at its period.
          await pollUntil(() =>
            MAIN.map(from).join(" ") + ` slow ${from(SLOW_LIVE)}`, () =>
            MAIN.every((ip) => from(ip) >= 5) && from(SLOW_LIVE) >= 2, {
            ms: 10_000,
            what: "replies of both groups",
          });
          assertEquals(from(DEAD), 0);
          // The set given again unchanged for > SILENT_RESTART_TICKS ticks with the slow group
          // (DEAD) silent throughout: nothing is restarted.
          const starts = p.starts;
          await repeatSet(p, [...MAIN, ...slow], slow, 15);
          assertEquals(p.starts, starts, "a child was restarted");
          assertEquals(
            (await toolProcs(ns, tool)).map((q) =>
              q.pid
            ).sort(),
            procs.map((q) => q.pid).sort(),
          );

          // Only the slow group changes: the main child(ren) keep running.
          const mainPids = [...new Set(MAIN.flatMap((ip) => probing(procs, ip)))].sort();
          const slow2 = [SLOW_LIVE_2];
          await p.setReflectors([...MAIN, ...slow2], plan(slow2));
          const before2 = from(SLOW_LIVE_2);
          await pollUntil(() => from(SLOW_LIVE_2), (n) => n > before2, {
            ms: 5000,
            what: `a reply of ${SLOW_LIVE_2}`,
          });
          const procs2 = await toolProcs(ns, tool);
          assertEquals([...new Set(MAIN.flatMap((ip) => probing(procs2, ip)))].sort(), mainPids);
          const slowPid = probing(procs2, SLOW_LIVE_2);
          assertEquals(slowPid.length, 1);
          assert(!mainPids.includes(slowPid[0]));
          assertEquals(probing(procs2, SLOW_LIVE).length + probing(procs2, DEAD).length, 0);

          // The slow group dropped: its child ends, the main ones keep running.
          await p.setReflectors(MAIN, plan([]));
          const { value: left } = await pollUntil(
            () => toolProcs(ns, tool),
            (ps) => ps.length === mainPids.length,
            { ms: 5000, what: `only the main ${tool} left` },
          );
          assertEquals(left.map((q) => q.pid).sort(), mainPids);
          assert(!(await exists(slowPid[0])), "the slow child is still there");
        } finally {
          await p.stop();
        }
        const { value: after } = await pollUntil(
          () => toolProcs(ns, tool),
          (ps) => ps.length === 0,
          {
            ms: 5000,
            what: `no ${tool} after stop()`,
          },
        );
        assertEquals(after.length, 0);
      }),
  );

  for (const [kind, ip] of [["routed, nobody answers", DEAD], ["without a route", UNROUTED]]) {
    Deno.test(
      needs(`netns: ${tool}, a slow reflector ${kind} logs no WARN flood`, reason),
      () =>
        withHosts(async (ns) => {
          const records: LogRecord[] = [];
          configureLogging("INFO", { sink: (r) => void records.push(r) });
          const got: PingReply[] = [];
          const p = await newPinger(tool, ns, got);
          let starts = 0;
          try {
            await p.start(MAIN);
            const slow = [ip];
            await p.setReflectors([...MAIN, ...slow], plan(slow));
            starts = p.starts;
            // Several slow periods, the set given again every tick as the selector does.
            await repeatSet(p, [...MAIN, ...slow], slow, 40);
            assert(got.length > 0, "no replies at all");
            assertEquals(got.filter((r) => r.reflector === ip).length, 0);
          } finally {
            await p.stop();
            resetLogging();
          }
          const warns = records.filter((r) => r.level === "warning" || r.level === "error");
          // Routed: the tool waits for replies that never come (no exit, nothing restarted);
          // without a route `ping` exits at once and is started again, with a growing delay.
          if (ip === DEAD) assertEquals(p.starts, starts, "a child was restarted");
          // At most the first exit (a route missing is news once), none per restart after it:
          // the main set's replies do not end that failure.
          const text = warns.map((r) => r.message.join(""));
          assert(
            text.length <= (ip === DEAD ? 0 : 1) && text.every((t) => /unreachable/i.test(t)),
            text.join("\n"),
          );
        }),
    );
  }
}

/** Whether process `pid` exists (anywhere). */
async function exists(pid: number): Promise<boolean> {
  return (await sh("test", ["-d", `/proc/${pid}`])).ok;
}
