/**
 * The daemon against helpers that hang (alive but silent: SIGSTOP), with the real tools in a
 * throw-away network namespace: the `tc -batch` coprocess, the `ip -batch` counter coprocess and
 * the pinger. Each fault must be logged once, the helper replaced, control must go on, and the
 * kernel's rate must be the daemon's last applied one (docs/operation.md, "Its helper
 * processes").
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { formatRecord, stageLogger } from "../log/mod.ts";
import { createShaperPair } from "../apply/shaper.ts";
import { TcBatch } from "../apply/tc_batch.ts";
import { createCounterReader, IpBatchSource } from "../counters/mod.ts";
import { addSilentRoute, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";
import { withDaemonNetns } from "./netns_fixture.ts";
import {
  assertRecovered,
  children,
  exists,
  flippingDaemon,
  loopbackMeasurement,
  matching,
  pause,
  recordedTcBatch,
  signal,
  until,
  withLogs,
} from "./hung_testing.ts";

const reason = await netnsSkipReason();

/** A helper's wait for an answer in these tests, ms (the daemon's defaults are 1–2 s). */
const TIMEOUT_MS = 200;

/** How a stopped helper goes on: stopped past the timeout, resumed just after it or before it. */
const RESUMES = [
  "stopped for 1 s more",
  "SIGCONT just after",
  "SIGCONT before the timeout",
] as const;

/** Stops `pid`; resumes it as `resume` says once `fault()` (its log line) holds, or after 100 ms. */
async function hang(pid: number, resume: typeof RESUMES[number], fault: () => boolean) {
  signal(pid, "SIGSTOP");
  if (resume === "SIGCONT before the timeout") await pause(100);
  else await until(fault, "the fault's log line");
  if (resume === "stopped for 1 s more") await pause(1000);
  signal(pid, "SIGCONT");
}

for (const resume of RESUMES) {
  /** A stall shorter than the timeout is no fault: the helper is kept. */
  const short = resume === "SIGCONT before the timeout";
  Deno.test({
    ...needs(
      `hung helper (netns): tc -batch SIGSTOPped (${resume}): logged once and replaced ` +
        "(not before the timeout), the kernel has the last applied rate",
      reason,
    ),
    fn: () =>
      withLogs((records) =>
        withNetns("sqma-hangtc", (ns) =>
          withDaemonNetns(ns, {}, async (d) => {
            const pids: number[] = [];
            const batch = recordedTcBatch(ns, pids, { timeoutMs: short ? 1000 : TIMEOUT_MS });
            const daemon = flippingDaemon(d, {
              shapers: createShaperPair(d.settings, { netns: ns, batch }),
            });
            try {
              await until(async () => (await d.tbf("vdl")).rateKbit >= 20000, "control");
              assertEquals(pids.length, 1);
              const old = pids[0];
              const fault = /tc -batch coprocess .*restarting/;
              await hang(old, resume, () => matching(records, fault).length > 0);
              await assertRecovered(d, daemon, { old: short ? undefined : old });
              assert(short ? pids.length === 1 : pids.length >= 2, `coprocesses ${pids}`);
              const text = records.map(formatRecord).join("");
              assertEquals(matching(records, fault).length, short ? 0 : 1, text);
              assertEquals(matching(records, /failed/).length, 0, text);
              assertEquals(await daemon.stop(), ExitCode.OK);
              assertEquals((await d.tbf("vdl")).rateKbit, 50000);
            } finally {
              await daemon.stop();
            }
            assertEquals((await children()).filter((c) => c.comm === "tc"), []);
          }))
      ),
  });

  Deno.test({
    ...needs(
      `hung helper (netns): ip -batch SIGSTOPped (${resume}): logged once, rates held, ` +
        "replaced (not before the timeout), control goes on",
      reason,
    ),
    fn: () =>
      withLogs((records) =>
        withNetns("sqma-hangip", (ns) =>
          withDaemonNetns(ns, {}, async (d) => {
            const source = new IpBatchSource({
              netns: ns,
              timeoutMs: short ? 1000 : TIMEOUT_MS,
              logger: stageLogger("counters"),
            });
            const counters = createCounterReader(d.settings, { source });
            const daemon = flippingDaemon(d, { counters });
            try {
              await until(async () => (await d.tbf("vdl")).rateKbit >= 20000, "control");
              const old = source.pid!;
              const fault = /ip coprocess .*restarting/;
              await hang(old, resume, () => matching(records, fault).length > 0);
              await assertRecovered(d, daemon, { old: short ? undefined : old });
              assertEquals(source.pid === old, short, `pid ${source.pid}`);
              assertEquals(source.restarts, short ? 0 : 1);
              const text = records.map(formatRecord).join("");
              const once = short ? 0 : 1;
              assertEquals(matching(records, fault).length, once, text);
              assertEquals(matching(records, /ip coprocess answering again/).length, once, text);
              assertEquals(matching(records, /byte counters unreadable/).length, once, text);
              assertEquals(matching(records, /byte counters readable again/).length, once, text);
              assertEquals(await daemon.stop(), ExitCode.OK);
            } finally {
              await daemon.stop();
              await counters.close();
            }
            assertEquals((await children()).filter((c) => c.comm === "ip"), []);
          }))
      ),
  });
}

/** Pinger, pool size: with 5 (= num_reflectors) a reselection can only set the same peers again. */
const PINGER_CASES = [["fping", 12], ["fping", 5], ["ping", 12], ["ping", 5]] as const;

for (const [tool, poolSize] of PINGER_CASES) {
  Deno.test({
    ...needs(
      `hung helper (netns): ${tool} SIGSTOPped (a pool of ${poolSize}): its reflectors go stale, ` +
        "it is replaced, control goes on",
      reason,
    ),
    fn: () =>
      withLogs((records) =>
        withNetns(
          "sqma-hangping",
          (ns) =>
            withDaemonNetns(ns, { measurement_type: "icmp" }, async (d) => {
              const measurement = loopbackMeasurement(d, { tool, poolSize });
              const daemon = flippingDaemon(d, { measurement });
              const pingers = async () =>
                (await children()).filter((c) => c.comm === tool).map((c) => c.pid);
              try {
                await until(() => daemon.ticks.some((t) => t.fresh >= 5), "five fresh reflectors");
                const [old] = await pingers();
                assert(old !== undefined);
                signal(old, "SIGSTOP");
                const stalled = daemon.ticks.length;
                await until(
                  () => daemon.ticks.slice(stalled).some((t) => t.fresh < 5),
                  "stale reflectors",
                );
                await until(async () => !(await exists(old)), `the stopped ${tool} to be reaped`);
                const back = daemon.ticks.length;
                await until(
                  () => daemon.ticks.slice(back).some((t) => t.fresh >= 5),
                  "fresh reflectors again",
                  10000,
                );
                // Counted outside a reselection: during one, ping runs a process per candidate
                // and fping a second child for the new draws when the candidates would exceed 20
                // probes a second (docs/operation.md, "Its helper processes"); a cycle asked for
                // during one follows it at once.
                const settled = tool === "fping" ? 1 : 5;
                await until(
                  async () =>
                    measurement.selector.phase === "idle" && !measurement.pinger?.switching &&
                    (await pingers()).length === settled,
                  `${settled} ${tool} outside a reselection`,
                  10000,
                );
                await assertRecovered(d, daemon, { old });
                const text = records.map(formatRecord).join("");
                // The outage is one WARN and one INFO, or DEBUG only when it was brief with a
                // reflector still fresh (src/control/outage_log.ts): the restart is logged anyway.
                const outage = matching(records, /fresh reflectors \(need 5\)/).length;
                assert(outage <= 1, text);
                assertEquals(matching(records, /fresh reflectors again/).length, outage, text);
                assertEquals(matching(records, /ignored SIGTERM/).length, 1, text);
                // Only the same set again needs the silence rule (src/measure/pinger.ts).
                assert(matching(records, /printed no reply/).length <= 1, text);
                assertEquals(await daemon.stop(), ExitCode.OK);
              } finally {
                await daemon.stop();
              }
              assertEquals(await pingers(), []);
            }),
        )
      ),
  });
}

/** Reflectors that never answer (`addSilentRoute`): a cycle's draws among them stay silent. */
const SILENT_POOL = Array.from({ length: 40 }, (_, i) => `10.79.0.${i + 1}`);

/**
 * Cycles a stopped peers' fping is kept through as they begin: one the loop did not ask for (the
 * 30 s timer's, an outlier's), and the loop's own (too few fresh: a peer lost two replies), whose
 * later requests are folded into it (src/reflectors/selector.ts, `onStillTooFew`).
 */
const KEPT_THROUGH = [
  ["a reselection it did not ask for", {}],
  ["a reselection the loop asked for", { tooFewFresh: true }],
] as const;

for (const [cycleKind, requestOptions] of KEPT_THROUGH) {
  Deno.test({
    ...needs(
      `hung helper (netns): fping SIGSTOPped as ${cycleKind} begins: kept ` +
        "through the cycle's start, replaced while the cycle still probes, not at its selection",
      reason,
    ),
    fn: () =>
      withLogs((records) =>
        withNetns(
          "sqma-hangcycle",
          (ns) =>
            withDaemonNetns(ns, { measurement_type: "icmp" }, async (d) => {
              await addSilentRoute(ns, "10.79.0.0/24");
              // Five live peers, 40 silent draws: the cycle probes its draws apart (the candidates
              // exceed 20 a second), for tick × π and one draw period, about 3.7 s; none of them
              // answers, so the peers' stopped child leaves no fresh reflector.
              const measurement = loopbackMeasurement(d, {
                tool: "fping",
                poolSize: 5,
                silent: SILENT_POOL,
              });
              const daemon = flippingDaemon(d, { measurement });
              const selector = measurement.selector;
              const pingers = async () =>
                (await children()).filter((c) => c.comm === "fping").map((c) => c.pid);
              try {
                await until(() => daemon.ticks.some((t) => t.fresh >= 5), "five fresh reflectors");
                await until(
                  async () => selector.phase === "idle" && (await pingers()).length === 1,
                  "one fping outside a reselection",
                );
                const [old] = await pingers();
                // Hung right after its last reply, as a cycle asked by the 30 s timer, an outlier or
                // the loop begins: its newest reply is less than a tick old, so the cycle keeps it
                // (SILENT_KEPT_TICKS, src/measure/pinger.ts).
                signal(old, "SIGSTOP");
                const cycles = selector.reselectionCount;
                selector.requestReselect("test: a timed reselection or too few", requestOptions);
                await until(() => selector.reselectionCount === cycles + 1, "the cycle");
                await until(async () => (await pingers()).length === 2, "the draws' fping");
                assert(
                  (await pingers()).includes(old),
                  "the stopped fping kept as the cycle began",
                );
                const stale = daemon.ticks.length;
                await until(
                  () => daemon.ticks.slice(stale).some((t) => t.fresh < 5),
                  "stale reflectors",
                );
                // The loop's too-few-fresh requests publish the cycle's candidates again (the
                // pinger restarts its child silent for 2 ticks), or, folded into its own cycle, ask
                // the pinger to restart its peers' child silent for a tick, before the cycle ends.
                await until(async () => !(await exists(old)), "the stopped fping to be reaped");
                const during = selector.phase === "probing" &&
                  selector.reselectionCount === cycles + 1;
                const back = daemon.ticks.length;
                await until(
                  () => daemon.ticks.slice(back).some((t) => t.fresh >= 5),
                  "fresh again",
                );
                const text = records.map(formatRecord).join("");
                console.log(matching(records, /fresh reflectors again/).map(formatRecord).join(""));
                assert(during, `reaped at the selection, not during the cycle:\n${text}`);
                assertEquals(matching(records, /fresh reflectors \(need 5\)/).length, 1, text);
                assertEquals(matching(records, /printed no reply/).length, 1, text);
                await assertRecovered(d, daemon, { old });
                assertEquals(await daemon.stop(), ExitCode.OK);
              } finally {
                await daemon.stop();
              }
              assertEquals(await pingers(), []);
            }),
        )
      ),
  });
}

Deno.test({
  ...needs(
    "hung helper (netns): tc, ip and fping all SIGSTOPped, then the daemon is stopped: it exits " +
      "within seconds with the exit rates in the kernel and no child left",
    reason,
  ),
  fn: () =>
    withLogs(() =>
      withNetns(
        "sqma-hangall",
        (ns) =>
          withDaemonNetns(ns, { measurement_type: "icmp" }, async (d) => {
            const source = new IpBatchSource({ netns: ns, timeoutMs: TIMEOUT_MS });
            const counters = createCounterReader(d.settings, { source });
            const batch = new TcBatch({ command: ["tc", "-n", ns], timeoutMs: TIMEOUT_MS });
            const measurement = loopbackMeasurement(d, { tool: "fping" });
            const daemon = flippingDaemon(d, {
              measurement,
              counters,
              shapers: createShaperPair(d.settings, { netns: ns, batch }),
            });
            try {
              await until(() => daemon.ticks.some((t) => t.fresh >= 5), "five fresh reflectors");
              const helpers = await children();
              assertEquals(helpers.map((c) => c.comm).sort(), ["fping", "ip", "tc"]);
              for (const c of helpers) signal(c.pid, "SIGSTOP");
              const started = Date.now();
              assertEquals(await daemon.stop(), ExitCode.OK);
              const tookMs = Date.now() - started;
              assert(tookMs < 6000, `stopping took ${tookMs} ms`);
              assertEquals((await d.tbf("vdl")).rateKbit, 50000);
              assertEquals((await d.tbf("vul")).rateKbit, 10000);
            } finally {
              await daemon.stop();
              await counters.close();
            }
            assertEquals(await children(), []);
          }),
      )
    ),
});

Deno.test({
  ...needs(
    "hung helper (netns): tc -batch SIGSTOPped with the daemon's own 2 s wait: decisions stop " +
      "for one tick of 2-4 s, then go on",
    reason,
  ),
  fn: () =>
    withLogs((records) =>
      withNetns("sqma-hangtick", (ns) =>
        withDaemonNetns(ns, {}, async (d) => {
          const pids: number[] = [];
          const batch = recordedTcBatch(ns, pids);
          const daemon = flippingDaemon(d, {
            shapers: createShaperPair(d.settings, { netns: ns, batch }),
          });
          try {
            await until(() => daemon.ticks.length >= 5, "five ticks");
            const before = daemon.ticks.length;
            signal(pids[0], "SIGSTOP");
            await until(
              () => matching(records, /tc -batch coprocess/).length > 0,
              "the fault",
              10_000,
            );
            signal(pids[0], "SIGCONT");
            await until(() => daemon.ticks.length >= before + 20, "twenty more ticks", 10_000);
            const ticks = daemon.ticks.slice(before - 1);
            const gaps = ticks.slice(1).map((t, i) => t.wallMs - ticks[i].wallMs);
            const longest = Math.max(...gaps);
            const usual = gaps.toSorted((a, b) => a - b)[Math.floor(gaps.length / 2)];
            console.log(
              `decisions stopped for ${longest} ms (usual gap ${usual} ms, longest tick ` +
                `${Math.max(...ticks.map((t) => t.durationS)).toFixed(2)} s)`,
            );
            assert(longest >= 2000 && longest <= 4000 + 2 * usual + 500, `gap ${longest} ms`);
            assertEquals(gaps.filter((g) => g > 1000).length, 1, `gaps ${gaps}`);
          } finally {
            await daemon.stop();
          }
        }))
    ),
});
