/**
 * A SIGHUP that changes only the logging (with a Lua script: only `log_format` or `log_priority`),
 * under the release permission set (`-P=daemon`) against real `tc` and fping in a throw-away
 * network namespace: applied to the running daemon without a restart (no exit rate, no start-up,
 * the shapers' rates untouched), so the learnt state that more logging is meant to show survives
 * (docs/operation.md, "A SIGHUP that changes only the logging"). A `log_level` change with a Lua
 * script restarts and says why.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import {
  addTbfVethPair,
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  occurrences,
  pollUntil,
  rootQdisc,
  sampledWhile,
  type SpawnedDaemon,
  untilControlStarted,
  withNetns,
  withSpawnedDaemon,
} from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

/** Base rates of every test here, kbit/s; the upload's is daemonUci's. */
const DL_BASE_KBITS = 50000;
/** A Lua plugin (it reads the settings, log_level included, at its start: docs/plugins.md). */
const LUA_PLUGIN = "config plugins\n\toption ratecontrol 'builtin:log_readings'";

/** What a test's body is given besides the daemon. */
interface HupRun {
  /** Writes the configuration with `logging` (the test's `uci` decides where it goes). */
  write(logging: string): Promise<void>;
  /** Waits up to `ms` for `part` in the daemon's log. */
  until(part: string, ms: number): Promise<void>;
}

/**
 * The shapers on a TBF veth pair in `ns`, a configuration of `uci(dir, first)` in a runtime
 * directory, and the daemon run on it for `body` once control started (then stopped with SIGTERM,
 * as withSpawnedDaemon does); the directory is removed after.
 */
async function withHupDaemon(
  ns: string,
  options: { dirPrefix: string; first: string; uci: (dir: string, logging: string) => string },
  body: (d: SpawnedDaemon, run: HupRun) => Promise<void>,
): Promise<{ code: number; log: string }> {
  await addTbfVethPair(ns, "vldl", "vlul");
  const dir = await daemonRuntimeDir(options.dirPrefix);
  const config = `${dir}/sqm-autorate`;
  const write = (logging: string) => Deno.writeTextFile(config, options.uci(dir, logging));
  await write(options.first);
  try {
    return await withSpawnedDaemon(ns, ["run", "--config", config], async (d) => {
      await untilControlStarted(d.log);
      await body(d, {
        write,
        until: async (part, ms) => {
          await pollUntil(d.log, (t) => t.includes(part), { ms, what: `"${part}"` });
        },
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: a SIGHUP changing only log_level applies it without a restart",
    reason,
  ),
  fn: () =>
    withNetns("sqma-huplog", async (ns) => {
      const rates = async () =>
        `${(await rootQdisc(ns, "vldl")).rateKbit}/${(await rootQdisc(ns, "vlul")).rateKbit}`;
      const { code, log } = await withHupDaemon(ns, {
        dirPrefix: "huplog-",
        first: "\toption log_level 'INFO'",
        uci: (dir, logging) =>
          daemonUci(dir, { ul: "vlul", dl: "vldl", dlBaseKbits: DL_BASE_KBITS })
            .replace("\toption log_level 'INFO'", logging),
      }, async (d, { write, until }) => {
        const before = await rates();
        assertEquals(before, "30000/6000", d.log()); // 60 % of base, held without load
        // DEBUG and JSON lines: the level and the format of every line after it.
        await write("\toption log_level 'DEBUG'\n\toption log_format 'json'");
        const seen = await sampledWhile(rates, async () => {
          d.kill("SIGHUP");
          await until("SIGHUP: configuration re-read (changed: log_level, log_format)", 10_000);
          // A restart's exit rate and minimum rate would show within these 3 s (a start-up
          // holds the minimum for its settle time).
          await new Promise((r) => setTimeout(r, 3000));
        });
        assertEquals(seen, [before], d.log());
        assert(d.log().includes("applied without a restart"), d.log());
        for (const restart of ["setting exit rate", "shutting down", "restarting with it"]) {
          assertEquals(occurrences(d.log(), restart), 0, `${restart}: ${d.log()}`);
        }
        assertEquals(occurrences(d.log(), "control started"), 1, d.log());
        // A line after it (a SIGHUP with nothing more changed) comes as JSON: the new logging.
        d.kill("SIGHUP");
        await until(
          '"message":"SIGHUP: configuration unchanged, keeping the running daemon"',
          10_000,
        );
      });
      assertEquals(code, ExitCode.OK, log);
      // The exit rate of the configuration in force: base.
      assertEquals(await rates(), "50000/10000", log);
    }),
});

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: with a Lua plugin, a SIGHUP changing only log_level " +
      "restarts and says why",
    reason,
  ),
  fn: () =>
    withNetns("sqma-huplua", async (ns) => {
      const { code, log } = await withHupDaemon(ns, {
        dirPrefix: "huplua-",
        first: "INFO",
        uci: (dir, level) =>
          daemonUci(dir, { ul: "vlul", dl: "vldl", dlBaseKbits: DL_BASE_KBITS, tail: LUA_PLUGIN })
            .replace("\toption log_level 'INFO'", `\toption log_level '${level}'`),
      }, async (d, { write, until }) => {
        await write("DEBUG");
        d.kill("SIGHUP");
        await until("SIGHUP: configuration re-read", 10_000);
        const lines = d.log().split("\n").filter((l) => l.includes("SIGHUP"));
        assertEquals(lines.map((l) => l.replace(/^\[INFO - [^\]]*\]: /, "")), [
          "SIGHUP: configuration re-read (changed: log_level); restarting " +
          "with it: Lua scripts are given log_level only at their start",
        ], d.log());
        await pollUntil(d.log, (t) => occurrences(t, "control started") === 2, {
          ms: 30_000,
          what: "the restart's control",
        });
      });
      assertEquals(code, ExitCode.OK, log);
    }),
});

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: with a Lua plugin, a SIGHUP changing only log_priority " +
      "and log_format applies them without a restart",
    reason,
  ),
  fn: () =>
    withNetns("sqma-hupluaprio", async (ns) => {
      const { code, log } = await withHupDaemon(ns, {
        dirPrefix: "hupluaprio-",
        first: "",
        uci: (dir, logging) =>
          daemonUci(dir, { ul: "vlul", dl: "vldl", dlBaseKbits: DL_BASE_KBITS, tail: LUA_PLUGIN })
            .replace("\toption log_level 'INFO'", `\toption log_level 'INFO'${logging}`),
      }, async (d, { write, until }) => {
        // How lines are written, not what a script is given: the host writes the worker's
        // lines too. Before, this restarted in place like a log_level edit.
        await write("\n\toption log_priority 'prefix'\n\toption log_format 'json'");
        d.kill("SIGHUP");
        await until(
          "SIGHUP: configuration re-read (changed: log_format, log_priority); applied " +
            "without a restart",
          10_000,
        );
        // A line after it comes with its priority and as JSON: the new logging.
        d.kill("SIGHUP");
        await until('<6>{"time"', 10_000);
        assert(
          /^<6>\{.*"message":"SIGHUP: configuration unchanged, keeping the running daemon"/m
            .test(d.log()),
          d.log(),
        );
        for (const restart of ["setting exit rate", "shutting down", "restarting with it"]) {
          assertEquals(occurrences(d.log(), restart), 0, `${restart}: ${d.log()}`);
        }
        assertEquals(occurrences(d.log(), "control started"), 1, d.log());
      });
      assertEquals(code, ExitCode.OK, log);
    }),
});
