/**
 * A SIGHUP that changes only the logging (with a Lua script: only `log_format` or `log_priority`), under the release permission set
 * (`-P=daemon`) against real `tc` and fping in a throw-away network namespace: applied to the
 * running daemon without a restart (no exit rate, no start-up, the shapers' rates untouched), so
 * the learnt state that more logging is meant to show survives (docs/operation.md, "A SIGHUP
 * that changes only the logging").
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
  withNetns,
  withSpawnedDaemon,
} from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: a SIGHUP changing only log_level applies it without a restart",
    reason,
  ),
  fn: () =>
    withNetns("sqma-huplog", async (ns) => {
      await addTbfVethPair(ns, "vldl", "vlul");
      const dir = await daemonRuntimeDir("huplog-");
      const config = `${dir}/sqm-autorate`;
      const uci = (logging: string) =>
        daemonUci(dir, { ul: "vlul", dl: "vldl", dlBaseKbits: 50000 })
          .replace("\toption log_level 'INFO'", logging);
      await Deno.writeTextFile(config, uci("\toption log_level 'INFO'"));
      const rates = async () =>
        `${(await rootQdisc(ns, "vldl")).rateKbit}/${(await rootQdisc(ns, "vlul")).rateKbit}`;
      try {
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config],
          async (d) => {
            const until = async (part: string, ms: number) =>
              await pollUntil(d.log, (t) => t.includes(part), { ms, what: `"${part}"` });
            await until("control started", 30_000);
            const before = await rates();
            assertEquals(before, "30000/6000", d.log()); // 60 % of base, held without load
            // DEBUG and JSON lines: the level and the format of every line after it.
            const logging = "\toption log_level 'DEBUG'\n\toption log_format 'json'";
            await Deno.writeTextFile(config, uci(logging));
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
          },
        );
        assertEquals(code, ExitCode.OK, log);
        // The exit rate of the configuration in force: base.
        assertEquals(await rates(), "50000/10000", log);
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
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
      await addTbfVethPair(ns, "vldl", "vlul");
      const dir = await daemonRuntimeDir("huplua-");
      const config = `${dir}/sqm-autorate`;
      // A plugin reads the settings, log_level included, at its start (docs/plugins.md).
      const uci = (level: string) =>
        daemonUci(dir, {
          ul: "vlul",
          dl: "vldl",
          dlBaseKbits: 50000,
          tail: "config plugins\n\toption ratecontrol 'builtin:log_readings'",
        }).replace("\toption log_level 'INFO'", `\toption log_level '${level}'`);
      await Deno.writeTextFile(config, uci("INFO"));
      try {
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config],
          async (d) => {
            const until = async (part: string, ms: number) =>
              await pollUntil(d.log, (t) => t.includes(part), { ms, what: `"${part}"` });
            await until("control started", 30_000);
            await Deno.writeTextFile(config, uci("DEBUG"));
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
          },
        );
        assertEquals(code, ExitCode.OK, log);
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
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
      await addTbfVethPair(ns, "vldl", "vlul");
      const dir = await daemonRuntimeDir("hupluaprio-");
      const config = `${dir}/sqm-autorate`;
      const uci = (logging: string) =>
        daemonUci(dir, {
          ul: "vlul",
          dl: "vldl",
          dlBaseKbits: 50000,
          tail: "config plugins\n\toption ratecontrol 'builtin:log_readings'",
        }).replace("\toption log_level 'INFO'", `\toption log_level 'INFO'${logging}`);
      await Deno.writeTextFile(config, uci(""));
      try {
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config],
          async (d) => {
            const until = async (part: string, ms: number) =>
              await pollUntil(d.log, (t) => t.includes(part), { ms, what: `"${part}"` });
            await until("control started", 30_000);
            // How lines are written, not what a script is given: the host writes the worker's
            // lines too. Before, this restarted in place like a log_level edit.
            const logging = "\n\toption log_priority 'prefix'\n\toption log_format 'json'";
            await Deno.writeTextFile(config, uci(logging));
            d.kill("SIGHUP");
            await until(
              "SIGHUP: configuration re-read (changed: log_format, log_priority); applied " +
                "without a restart",
              10_000,
            );
            // A line after it comes with its priority and as JSON: the new logging.
            d.kill("SIGHUP");
            await until(
              '<6>{"time"',
              10_000,
            );
            assert(
              /^<6>\{.*"message":"SIGHUP: configuration unchanged, keeping the running daemon"/m
                .test(d.log()),
              d.log(),
            );
            for (const restart of ["setting exit rate", "shutting down", "restarting with it"]) {
              assertEquals(occurrences(d.log(), restart), 0, `${restart}: ${d.log()}`);
            }
            assertEquals(occurrences(d.log(), "control started"), 1, d.log());
          },
        );
        assertEquals(code, ExitCode.OK, log);
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }),
});
