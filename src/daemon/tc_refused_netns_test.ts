/**
 * The daemon started by an ordinary user (docs/operation.md, "Not allowed to change the shaper"):
 * the real `tc`, run as uid 65534 inside a throw-away network namespace, shows the root qdiscs
 * (the start-up check passes) and is refused every change. Before, the daemon ran on for good,
 * "retrying every tick" a change that could never be made; now it stops with 69 at once, with the
 * FATAL alone (no ERROR "retrying every tick" before it).
 */
import { assert, assertEquals } from "../util/assert.ts";
import { denoCommandRunner } from "../util/command.ts";
import type { CommandRunner } from "../util/command.ts";
import { addTbfVethPair, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { createShaperPair } from "../apply/shaper.ts";
import { VirtualClock } from "../util/clock.ts";
import { ExitCode } from "../util/exit_codes.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, formatRecord, resetLogging } from "../log/mod.ts";
import { runDaemon } from "./mod.ts";

/** Why tc cannot be run as another user here, else undefined. */
async function reason(): Promise<string | undefined> {
  const netns = await netnsSkipReason();
  if (netns !== undefined) return netns;
  try {
    await new Deno.Command("setpriv", { args: ["--version"], stdout: "null" }).output();
  } catch {
    return "no setpriv";
  }
  return undefined;
}

/** The real runner with each program run inside `ns` as uid/gid 65534 (nobody). */
function asNobodyIn(ns: string): CommandRunner {
  const real = denoCommandRunner();
  const nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
  return (binary, args, run) =>
    real("ip", ["netns", "exec", ns, "setpriv", ...nobody, binary, ...args], run);
}

Deno.test({
  ...needs("daemon: tc refused for want of privilege at start is FATAL 69, once", await reason()),
  fn: () =>
    withNetns("sqma-eperm", async (ns) => {
      await addTbfVethPair(ns, "vdl", "vul");
      const settings = settingsWithDefaults({
        dl_if: "vdl",
        ul_if: "vul",
        base_dl_rate: 50000,
        base_ul_rate: 10000,
        shaper: "tbf",
      });
      const clock = new VirtualClock(0);
      const ac = new AbortController();
      const records: LogRecord[] = [];
      configureLogging("INFO", { sink: (r) => void records.push(r) });
      try {
        const code = await runDaemon(settings, {
          clock,
          random: () => 0.5,
          shapers: createShaperPair(settings, { batch: false, runner: asNobodyIn(ns) }),
          counters: { read: () => Promise.resolve({ dlBytes: 0, ulBytes: 0 }) },
          measurement: {
            owd: createOwdState(["a"]),
            reselect: { requestReselect: () => {} },
            start: () => Promise.resolve(),
            stop: () => Promise.resolve(),
          },
          stats: null,
          shutdown: ac.signal,
          // Without the fix the daemon goes on to control: end it after 30 virtual seconds.
          sleep: (ms: number) => {
            clock.advance(ms / 1000);
            if (clock.monotonicS() > 30) ac.abort();
            return Promise.resolve();
          },
        });
        const text = records.map(formatRecord).join("");
        assertEquals(code, ExitCode.UNAVAILABLE, text);
        const fatal = records.filter((r) => r.level === "fatal").map(formatRecord);
        assertEquals(fatal.length, 1, text);
        assert(fatal[0].includes("tc may not change the shaper on vdl"), fatal[0]);
        assert(fatal[0].includes("Operation not permitted"), fatal[0]);
        assert(fatal[0].includes("run sqm-autorate as root or with CAP_NET_ADMIN"), fatal[0]);
        // The FATAL alone: no ERROR "… failed (retrying every tick)" before it to contradict it.
        const retrying = records.filter((r) => r.level === "error").map(formatRecord)
          .filter((line) => line.includes("retrying"));
        assertEquals(retrying, [], text);
      } finally {
        resetLogging();
      }
    }),
});
