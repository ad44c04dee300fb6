/**
 * SIGHUP under the release permission set (`-P=daemon`) in a throw-away network namespace, with a
 * plugin that fails every tick: an edit elsewhere restarts with it rather than being refused for
 * it (docs/operation.md, "A configuration re-read on SIGHUP").
 */
import { assert, assertEquals } from "../util/assert.ts";
import {
  addTbfVethPair,
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  occurrences,
  pollUntil,
  rootQdisc,
  withNetns,
  withSpawnedDaemon,
} from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: a plugin failing since the start does not keep a SIGHUP's other edit out",
    reason,
  ),
  fn: () =>
    withNetns("sqma-reloadfail", async (ns) => {
      await addTbfVethPair(ns, "vfdl", "vful");
      const dir = await daemonRuntimeDir("reload-failing-");
      const config = `${dir}/sqm-autorate`;
      await Deno.writeTextFile(
        `${dir}/failing.lua`,
        'local M = {}\nfunction M.process(r) error("always") end\nreturn M\n',
      );
      const uci = (base: number) =>
        daemonUci(dir, {
          ul: "vful",
          dl: "vfdl",
          dlBaseKbits: base,
          tail: `config plugins\n\tlist plugin_script '${dir}/failing.lua'`,
        });
      await Deno.writeTextFile(config, uci(50000));
      const rate = async () => (await rootQdisc(ns, "vfdl")).rateKbit;
      try {
        await withSpawnedDaemon(ns, ["run", "--config", config], async (d) => {
          const log = d.log;
          const until = (ok: (t: string) => boolean, what: string) =>
            pollUntil(log, ok, { ms: 40_000, what });
          await until((t) => occurrences(t, "control started") >= 1, "control start");
          await until((t) => t.includes("failing.lua:2: always"), "the plugin's failure");
          assertEquals(await rate(), 30000, log());
          // The owner raises the base rate; the plugin is as it was.
          await Deno.writeTextFile(config, uci(80000));
          d.kill("SIGHUP");
          await until((t) => t.includes("control started at download 48000"), "the restart");
          // Until the thirty-first session: "SIGHUP: the configuration has errors, keeping the
          // running one: plugin …: process() failed (error): …failing.lua:2: always".
          assert(!log().includes("keeping the running one"), log());
          assert(
            /SIGHUP: plugin .*failing\.lua:2: always.*its script is unchanged/.test(log()),
            log(),
          );
          assertEquals(await rate(), 48000, log());
        });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});
