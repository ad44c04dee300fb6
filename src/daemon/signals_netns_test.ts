/**
 * The real daemon process (`main.ts run`) against real `tc` in a throw-away network namespace:
 * SIGHUP re-reads the UCI file and restarts in place; a broken file changes nothing; SIGTERM
 * applies the exit rate.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import {
  addTbfVethPair,
  collectStderr,
  needs,
  netnsSkipReason,
  pollUntil,
  rootQdisc,
  withNetns,
} from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/**
 * Longest time from a SIGHUP while controlling to its restart being logged, s: 1.0 s measured at
 * a 1 s period, 5.0–6.0 s before its waits went to the timer (docs/operation.md, "Signals").
 */
const BOUND_S = 3;

function uci(downloadBase: number, extra = ""): string {
  return [
    "config network",
    "\toption upload_interface 'vul'",
    "\toption download_interface 'vdl'",
    "\toption upload_base_kbits '10000'",
    `\toption download_base_kbits '${downloadBase}'`,
    "config output",
    "\toption log_level 'INFO'",
    "\toption suppress_statistics '1'",
    "config advanced_settings",
    "\toption shaper 'tbf'",
    extra,
    "",
  ].join("\n");
}

/** `pollUntil` every 50 ms; the value that held. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string) {
  return (await pollUntil(read, ok, { ms, what, everyMs: 50 })).value;
}

/** The daemon started in `ns` on `config`, its stderr collected as it comes. */
interface RunningDaemon {
  child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  log: () => string;
  /** Sends SIGTERM and returns the exit code. */
  stop: () => Promise<number>;
  /** Kills the daemon unless `stop` already ended it; waits for its stderr. */
  cleanup: () => Promise<void>;
}

function startDaemon(ns: string, options: { config: string; dir: string }): RunningDaemon {
  const child = new Deno.Command("ip", {
    args: [
      ...["netns", "exec", ns, Deno.execPath(), "run", "-P=dev", MAIN, "run"],
      ...["--config", options.config, "--state-dir", `${options.dir}/state`],
    ],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const { log, done: collecting } = collectStderr(child);
  let code: number | undefined;
  return {
    child,
    log,
    stop: async () => {
      child.kill("SIGTERM");
      code = (await child.status).code;
      return code;
    },
    cleanup: async () => {
      if (code === undefined) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await child.status;
      }
      await collecting;
    },
  };
}

Deno.test({
  ...needs(
    "daemon process in a netns: SIGHUP reloads the UCI file, a broken one is refused, SIGTERM exits",
    reason,
  ),
  fn: () =>
    withNetns("sqma-hup", async (ns) => {
      const dir = await Deno.makeTempDir({ prefix: "sqma-hup-" });
      const config = `${dir}/sqm-autorate`;
      await addTbfVethPair(ns, "vdl", "vul");
      const rate = async () => (await rootQdisc(ns, "vdl")).rateKbit;
      await Deno.writeTextFile(config, uci(50000));
      const daemon = startDaemon(ns, { config, dir });
      let code: number | undefined;
      try {
        // Start-up sets the minimum rate: 20 % of 50 000.
        await until(rate, (r) => r === 10000, 20_000, "the first minimum rate");
        await Deno.writeTextFile(config, uci(80000));
        daemon.child.kill("SIGHUP");
        // The restart sets the exit rate (old base) and then the new minimum: 20 % of 80 000.
        await until(rate, (r) => r === 16000, 20_000, "the minimum of the new configuration");
        assert(daemon.log().includes("changed: base_dl_rate"), daemon.log());

        await Deno.writeTextFile(config, uci(80000, "\toption exit_rate 'sometimes'"));
        daemon.child.kill("SIGHUP");
        await until(
          () => Promise.resolve(daemon.log()),
          (t) => t.includes("keeping the running one"),
          10_000,
          "the refusal of the broken configuration",
        );
        // A misspelt option makes a setting "required": the refusal comes with the warning that
        // names the misspelling, as a start's does (before, the ERROR alone).
        await Deno.writeTextFile(
          config,
          uci(80000).replace("download_base_kbits", "download_base_kbit"),
        );
        daemon.child.kill("SIGHUP");
        await until(
          () => Promise.resolve(daemon.log()),
          (t) => t.split("keeping the running one").length === 3,
          10_000,
          "the refusal of the misspelt configuration",
        );
        const refusal = daemon.log().slice(daemon.log().indexOf("exit_rate"));
        const hint = refusal.indexOf('(did you mean "download_base_kbits"?)');
        assert(hint >= 0, refusal);
        assert(hint < refusal.lastIndexOf("keeping the running one"), refusal);
        // A stray SIGUSR2 is one line, not the end of the daemon (before: killed, exit 140, no
        // exit rate).
        daemon.child.kill("SIGUSR2");
        await until(
          () => Promise.resolve(daemon.log()),
          (t) => t.includes("SIGUSR2 ignored"),
          10_000,
          "the SIGUSR2 line",
        );
        code = await daemon.stop();
      } finally {
        await daemon.cleanup();
        await Deno.remove(dir, { recursive: true });
      }
      const log = daemon.log();
      assertEquals(code, ExitCode.OK, log);
      // The exit rate of the configuration in force: the reloaded base, not the broken file.
      assertEquals(await rate(), 80000, log);
    }),
});

Deno.test({
  ...needs(
    "daemon process in a netns: SIGTERM while idle (thread blocked between ticks) exits at once",
    reason,
  ),
  fn: () =>
    withNetns("sqma-idle", async (ns) => {
      const dir = await Deno.makeTempDir({ prefix: "sqma-idle-" });
      const config = `${dir}/sqm-autorate`;
      await addTbfVethPair(ns, "vdl", "vul");
      const rate = async () => (await rootQdisc(ns, "vdl")).rateKbit;
      // No traffic: idle after 1 s of control, held at base (50 000); exit at min (10 000).
      await Deno.writeTextFile(
        config,
        uci(50000, "\toption idle_delay '1'\n\toption exit_rate 'min'"),
      );
      const daemon = startDaemon(ns, { config, dir });
      let code: number | undefined;
      let exitMs = 0;
      try {
        await until(
          () => Promise.resolve(daemon.log()),
          (t) => t.includes("entering idle mode"),
          40_000,
          "idle mode",
        );
        assertEquals(await rate(), 50000);
        await new Promise((r) => setTimeout(r, 1500)); // a few idle ticks
        const t0 = Date.now();
        code = await daemon.stop();
        exitMs = Date.now() - t0;
      } finally {
        await daemon.cleanup();
        await Deno.remove(dir, { recursive: true });
      }
      const log = daemon.log();
      assertEquals(code, ExitCode.OK, log);
      assertEquals(await rate(), 10000, `the exit rate was set:\n${log}`);
      // At most one blocked wait (min_change_interval, 0.5 s) plus the shutdown itself.
      assert(exitMs < 5000, `exit took ${exitMs} ms`);
    }),
});

Deno.test({
  ...needs(
    "daemon process in a netns: a SIGHUP while controlling is acted on within about a tick",
    reason,
  ),
  fn: () =>
    withNetns("sqma-huplat", async (ns) => {
      const dir = await Deno.makeTempDir({ prefix: "sqma-huplat-" });
      const config = `${dir}/sqm-autorate`;
      await addTbfVethPair(ns, "vdl", "vul");
      // A 1 s period: the longest wait the loop's thread spends blocked (src/util/blocking_sleep.ts).
      const extra = "\toption min_change_interval '1'";
      await Deno.writeTextFile(config, uci(50000, extra));
      const daemon = startDaemon(ns, { config, dir });
      let code: number | undefined;
      let seconds = 0;
      try {
        await until(
          () => Promise.resolve(daemon.log()),
          (t) => t.includes("control started"),
          30_000,
          "control",
        );
        await new Promise((r) => setTimeout(r, 2500)); // a few blocked waits between ticks
        await Deno.writeTextFile(config, uci(80000, extra));
        const t0 = Date.now();
        daemon.child.kill("SIGHUP");
        await until(
          () => Promise.resolve(daemon.log()),
          (t) => t.includes("restarting with it"),
          30_000,
          "the restart",
        );
        seconds = (Date.now() - t0) / 1000;
        code = await daemon.stop();
      } finally {
        await daemon.cleanup();
        await Deno.remove(dir, { recursive: true });
      }
      assertEquals(code, ExitCode.OK, daemon.log());
      console.log(`SIGHUP to its restart: ${seconds.toFixed(2)} s`);
      // The signal is seen when the blocked wait ends (at most 1 s); its checks (the pinger, tc on
      // both interfaces) then run in real time instead of one step a tick (several seconds).
      assert(seconds < BOUND_S, `the SIGHUP took ${seconds} s:\n${daemon.log()}`);
    }),
});
