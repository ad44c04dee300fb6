/**
 * A SIGHUP that changes only `log_level` (or `log_format`), under the release permission set
 * (`-P=daemon`) against real `tc` and fping in a throw-away network namespace: applied to the
 * running daemon without a restart (no exit rate, no start-up, the shapers' rates untouched), so
 * the learnt state that more logging is meant to show survives (docs/operation.md, "A SIGHUP
 * that changes only the logging").
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import {
  addTbfVethPair,
  collectStderr,
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  pollUntil,
  rootQdisc,
  spawnDaemonInNetns,
  withNetns,
} from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

const count = (text: string, part: string) => text.split(part).length - 1;

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
      const child = spawnDaemonInNetns(ns, ["run", "--config", config]);
      const { log, done: collecting } = collectStderr(child);
      let exited: number | undefined;
      void child.status.then((s) => exited = s.code);
      const until = async (part: string, ms: number) =>
        await pollUntil(log, (t) => t.includes(part), { ms, what: `"${part}"` });
      let code: number | undefined;
      try {
        await until("control started", 30_000);
        const before = await rates();
        assertEquals(before, "30000/6000", log()); // 60 % of base, held without load
        // DEBUG and JSON lines: the level and the format of every line after it.
        const logging = "\toption log_level 'DEBUG'\n\toption log_format 'json'";
        await Deno.writeTextFile(config, uci(logging));
        const seen = new Set<string>();
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            seen.add(await rates());
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
        child.kill("SIGHUP");
        await until("SIGHUP: configuration re-read (changed: log_level, log_format)", 10_000);
        // A restart's exit rate and minimum rate would show within these 3 s (a start-up holds
        // the minimum for its settle time).
        await new Promise((r) => setTimeout(r, 3000));
        sampling = false;
        await sampler;
        assertEquals([...seen], [before], log());
        assert(log().includes("applied without a restart"), log());
        for (const restart of ["setting exit rate", "shutting down", "restarting with it"]) {
          assertEquals(count(log(), restart), 0, `${restart}: ${log()}`);
        }
        assertEquals(count(log(), "control started"), 1, log());
        // A line after it (a SIGHUP with nothing more changed) comes as JSON: the new logging.
        child.kill("SIGHUP");
        await until(
          '"message":"SIGHUP: configuration unchanged, keeping the running daemon"',
          10_000,
        );
        assertEquals(exited, undefined, log());
        child.kill("SIGTERM");
        code = (await child.status).code;
      } finally {
        if (exited === undefined && code === undefined) child.kill("SIGKILL");
        await child.status;
        await collecting;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
      assertEquals(code, ExitCode.OK, log());
      // The exit rate of the configuration in force: base.
      assertEquals(await rates(), "50000/10000", log());
    }),
});
