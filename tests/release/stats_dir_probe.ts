/**
 * Statistics-directory probe: the daemon's statistics sink with both files in `DIR/stats/sub/`
 * (missing at start), the directory removed while it runs, and a third file outside what the
 * daemon may write. Prints `{ lines, stats }` as JSON: every log line and the stats file at the
 * end. Run under `-P=daemon` with DIR inside the daemon's runtime directory, it shows the release
 * permission set lets the daemon make the directory (docs/operation.md, "Statistics files on a
 * full or read-only /tmp").
 */
import { settingsWithDefaults } from "../../src/config/defaults.ts";
import { createStatsSink } from "../../src/report/stats.ts";
import type { Logger } from "../../src/log/logger.ts";
import type { StatsRow } from "../../src/control/ports.ts";

/** The one row the probe writes (the test expects it in the stats file). */
export const PROBE_ROW: StatsRow = {
  times: 1,
  timens: 2,
  rxload: 0,
  txload: 0,
  deltadelaydown: 0,
  deltadelayup: 0,
  dlrate: 3,
  uprate: 4,
};

if (import.meta.main) {
  const base = Deno.args[0];
  const outside = Deno.args[1];
  const lines: string[] = [];
  const at = (level: string) => (message: string, props: Record<string, unknown> = {}) =>
    lines.push(`${level} ${message.replace(/\{(\w+)\}/g, (_, k) => String(props[k]))}`);
  const logger = { info: at("INFO"), warn: at("WARN"), error: at("ERROR"), debug: at("DEBUG") };
  const options = { logger: logger as unknown as Logger, flushEveryRows: 100 };
  const sink = (await createStatsSink(
    settingsWithDefaults({
      stats_file: `${base}/stats/sub/s.csv`,
      speedhist_file: `${base}/stats/sub/h.csv`,
    }),
    options,
  ))!;
  await Deno.remove(`${base}/stats`, { recursive: true });
  sink.statsRow(PROBE_ROW);
  await sink.flush();
  const denied = (await createStatsSink(
    settingsWithDefaults({ stats_file: `${outside}/s.csv`, speedhist_file: `${outside}/h.csv` }),
    options,
  ))!;
  denied.statsRow(PROBE_ROW);
  await denied.flush();
  const stats = await Deno.readTextFile(`${base}/stats/sub/s.csv`);
  console.log(JSON.stringify({ lines, stats }));
}
