/**
 * For daemon tests against real `tc` and `ip` in a throw-away network namespace: a veth pair
 * `vdl`/`vul` with a root TBF on each end, real counters through the ip coprocess, a stand-in
 * measurement that keeps five reflectors fresh, real timers.
 */
import { settingsWithDefaults } from "../config/defaults.ts";
import type { TableSettings } from "../config/settings_table.ts";
import type { Settings } from "../config/types.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import type { MeasurementService } from "../control/ports.ts";
import { readLinkKind } from "../apply/link_kind.ts";
import { createShaperPair } from "../apply/shaper.ts";
import { createCounterReader } from "../counters/mod.ts";
import { systemClock } from "../util/clock.ts";
import { addTbfVethPair, must, rootQdisc } from "../util/netns_testing.ts";
import { type DaemonDeps, runDaemon } from "./mod.ts";

/** What a test gets inside the namespace. */
export interface DaemonNetns {
  /** The namespace. */
  ns: string;
  /** The daemon's settings (TBF on vdl/vul, statistics off unless overridden). */
  settings: Settings;
  /** Root TBF options of `dev` as tc reports them: rate in kbit/s, burst in bytes. */
  tbf(dev: "vdl" | "vul"): Promise<{ kind: string; rateKbit: number; burst: number }>;
  /** Runs `tc -n NS ARGS…`. */
  tc(args: string[]): Promise<string>;
  /** Starts the daemon; `stop()` aborts it and resolves with its exit code. */
  start(deps?: Partial<DaemonDeps>): { stop(): Promise<number>; done: Promise<number> };
  /** Called by the measurement stand-in on start (e.g. to read the minimum rate). */
  onMeasurementStart?: () => Promise<void>;
}

/** Sets up `vdl`/`vul` with TBF 1 Mbit/s in `ns` and runs `fn`; closes the counters after. */
export async function withDaemonNetns<T>(
  ns: string,
  overrides: Partial<TableSettings>,
  fn: (d: DaemonNetns) => Promise<T>,
): Promise<T> {
  const settings = settingsWithDefaults({
    dl_if: "vdl",
    ul_if: "vul",
    base_dl_rate: 50000,
    base_ul_rate: 10000,
    shaper: "tbf",
    suppress_statistics: true,
    min_change_interval: 0.1,
    ...overrides,
  });
  await addTbfVethPair(ns, "vdl", "vul");
  const counters = createCounterReader(settings, { netns: ns });
  const tc = (args: string[]) => must("tc", ["-n", ns, ...args]);
  const d: DaemonNetns = {
    ns,
    settings,
    tc,
    tbf: (dev) => rootQdisc(ns, dev),
    start: (deps = {}) => {
      const ac = new AbortController();
      const done = runDaemon(settings, {
        measurement: freshMeasurement(() => d.onMeasurementStart?.()),
        shapers: createShaperPair(settings, { netns: ns }),
        linkKind: (ifname) => readLinkKind(ifname, { netns: ns }),
        counters,
        shutdown: ac.signal,
        timing: { settleS: 0.1, baselineWaitS: 1 },
        ...deps,
      });
      return {
        done,
        stop: () => {
          ac.abort();
          return done;
        },
      };
    },
  };
  try {
    return await fn(d);
  } finally {
    await counters.close();
  }
}

/** A measurement that keeps five reflectors fresh (no delay increase) every 50 ms. */
function freshMeasurement(onStart: () => Promise<void> | undefined): MeasurementService {
  const owd = createOwdState(["r1", "r2", "r3", "r4", "r5"]);
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    owd,
    reselect: { requestReselect: () => {} },
    start: async () => {
      await onStart();
      const feed = () => {
        const t = systemClock.monotonicS();
        for (const ip of owd.peers) {
          owd.baseline.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: t });
          owd.recent.set(ip, { up_ewma: 1, down_ewma: 1, last_receive_time_s: t });
        }
      };
      feed();
      timer = setInterval(feed, 50);
    },
    stop: () => {
      clearInterval(timer);
      return Promise.resolve();
    },
  };
}
