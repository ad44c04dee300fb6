/**
 * A SIGHUP with nothing changed, under the release permission set (`-P=daemon`) against real `tc`
 * and fping in a throw-away network namespace: the running daemon is kept as it is (no exit rate,
 * no start-up, the shapers' rates untouched), while the same SIGHUP after a plugin script was
 * edited restarts it with the new script (docs/operation.md, "A SIGHUP with nothing changed").
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

/**
 * The daemon's file; `savedAgain`: as an editor may leave it with no setting changed, a comment
 * more, the plugins' section moved first (libuci numbers anonymous sections by position), and a
 * `log_level` that the daemon's `--log-level` flag overrides.
 */
function uci(dir: string, savedAgain = false): string {
  const plugins = `config plugins\n\toption ratecontrol '${dir}/marker.lua'`;
  const text = daemonUci(dir, {
    ul: "vuul",
    dl: "vudl",
    dlBaseKbits: 50000,
    head: savedAgain ? `# saved again\n${plugins}` : undefined,
    tail: savedAgain ? "" : plugins,
  });
  return savedAgain ? text.replace("option log_level 'INFO'", "option log_level 'DEBUG'") : text;
}

/** A plugin that changes no rate and says which version of it was loaded. */
function plugin(version: number): string {
  return [
    'local M = { name = "marker" }',
    "function M.initialise(requires)",
    `  requires.util.logger(requires.util.loglevel.INFO, "marker version ${version} loaded")`,
    "  return M",
    "end",
    "function M.process() return {} end",
    "return M",
    "",
  ].join("\n");
}

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: a SIGHUP with nothing changed keeps it, an edited plugin restarts it",
    reason,
  ),
  fn: () =>
    withNetns("sqma-hupsame", async (ns) => {
      await addTbfVethPair(ns, "vudl", "vuul");
      const dir = await daemonRuntimeDir("hupsame-");
      const config = `${dir}/sqm-autorate`;
      await Deno.writeTextFile(config, uci(dir));
      await Deno.writeTextFile(`${dir}/marker.lua`, plugin(1));
      const rates = async () =>
        `${(await rootQdisc(ns, "vudl")).rateKbit}/${(await rootQdisc(ns, "vuul")).rateKbit}`;
      try {
        const { code, log } = await withSpawnedDaemon(
          ns,
          ["run", "--config", config, "--log-level", "INFO"],
          async (d) => {
            const until = async (part: string, n: number, ms: number) =>
              await pollUntil(d.log, (t) => occurrences(t, part) >= n, {
                ms,
                what: `${n} × "${part}"`,
              });
            await until("control started", 1, 30_000);
            await until("marker version 1 loaded", 1, 5_000);
            const before = await rates();
            assertEquals(before, "30000/6000", d.log()); // 60 % of base, held without load

            // Nothing changed: the file rewritten (above, `uci`), the plugin with the same text (a
            // new mtime), as an editor or `uci commit` of another package leaves them.
            await Deno.writeTextFile(config, uci(dir, true));
            await Deno.writeTextFile(`${dir}/marker.lua`, plugin(1));
            const seen = await sampledWhile(rates, async () => {
              d.kill("SIGHUP");
              await until("SIGHUP: configuration", 1, 10_000);
              // A restart's exit rate and minimum rate would show within these 3 s (a start-up
              // holds the minimum for its settle time).
              await new Promise((r) => setTimeout(r, 3000));
            });
            assertEquals(seen, [before], d.log());
            assert(
              d.log().includes("SIGHUP: configuration unchanged, keeping the running daemon"),
              d.log(),
            );
            for (const restart of ["setting exit rate", "shutting down", "restarting with it"]) {
              assertEquals(occurrences(d.log(), restart), 0, `${restart}: ${d.log()}`);
            }
            assertEquals(occurrences(d.log(), "control started"), 1, d.log());
            assertEquals(occurrences(d.log(), "marker version 1 loaded"), 1, d.log());
            console.log(`unchanged SIGHUP: tc rates ${before} before, ${seen.join(", ")} during`);

            // The plugin edited, the settings the same: restarted, with the new script.
            await Deno.writeTextFile(`${dir}/marker.lua`, plugin(2));
            d.kill("SIGHUP");
            await until(`(changed: ${dir}/marker.lua); restarting with it`, 1, 10_000);
            await until("control started", 2, 30_000);
            await until("marker version 2 loaded", 1, 5_000);
            assertEquals(occurrences(d.log(), "setting exit rate"), 1, d.log());
          },
        );
        assertEquals(code, ExitCode.OK, log);
        console.log(
          log.split("\n").filter((l) => /SIGHUP|exit rate|control started|marker version/.test(l))
            .join("\n"),
        );
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }),
});
