/**
 * The statistics directory under the release permission set (`-P=daemon`): made when missing at
 * start and when removed while running, one INFO each; a file outside the set is one ERROR naming
 * its setting (docs/operation.md, "Statistics files on a full or read-only /tmp").
 */
import { assertEquals } from "../../src/util/assert.ts";
import { daemonRuntimeDir, needs, runtimeDirSkipReason } from "../../src/util/netns_testing.ts";
import { formatStatsRow, STATS_HEADER } from "../../src/report/stats.ts";
import { daemonRunArgs, expectCode, runDeno } from "./run_deno.ts";
import { PROBE_ROW } from "./stats_dir_probe.ts";

Deno.test(
  needs(
    "-P=daemon: a missing statistics directory is made at start and when removed; outside the set one ERROR",
    runtimeDirSkipReason(),
  ),
  async () => {
    const base = await daemonRuntimeDir("stats-dir-");
    const outside = `/tmp/sqma-not-allowed-${crypto.randomUUID()}`; // never made: not allowed
    try {
      const r = await runDeno(daemonRunArgs("tests/release/stats_dir_probe.ts", [base, outside]));
      expectCode(r, 0, "stats_dir_probe");
      const { lines, stats } = JSON.parse(r.stdout) as { lines: string[]; stats: string };
      const dir = `${base}/stats/sub`;
      const made = lines.filter((l) => l.startsWith(`INFO made the missing directory ${dir} of `));
      assertEquals(made.length, 2, lines.join("\n"));
      assertEquals(lines.length, 4, lines.join("\n"));
      assertEquals(
        lines.slice(2),
        ["stats_file", "speedhist_file"].map((setting) =>
          `ERROR cannot write ${outside}/${setting === "stats_file" ? "s" : "h"}.csv: ${setting} ` +
          "is outside what the daemon's permissions let it write"
        ),
      );
      const row = formatStatsRow(PROBE_ROW);
      assertEquals(stats, `${STATS_HEADER}\n${row}\n`);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
);
