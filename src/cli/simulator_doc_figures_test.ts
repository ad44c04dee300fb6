/**
 * docs/simulator.md's "Figures" table is what `simulate --trace T --duration 300 --seed 1
 * [--pinger tsping] --json` gives today, to the digits the table prints. It had drifted for
 * several sessions (the model before 2026-12-05: step's utilisation 84.6 % where the run gave
 * 74.5 %) without anything noticing.
 */
import { assertEquals } from "../util/assert.ts";
import { simulateCommand } from "./simulate_command.ts";
import { runSubcommand } from "./testing.ts";

const DOC = new URL("../../docs/simulator.md", import.meta.url);

/** One row of the table: trace, then "RTT / OWD" pairs as printed (units stripped). */
interface Row {
  trace: string;
  cells: string[];
}

function tableRows(md: string): Row[] {
  const start = md.indexOf("## Figures (EWMA, default settings, saturating load, 300 s, seed 1)");
  const lines = md.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("| trace"));
  const rows: Row[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    const [trace, ...cells] = line.split("|").slice(1, -1).map((c) => c.trim());
    rows.push({ trace, cells });
  }
  return rows;
}

/** The summary fields a run gives, as `simulate --json` prints them. */
interface Summary {
  p95DelayMs: number;
  utilisationPct: number;
  worstRecoveryS: number | null;
  medianRampupS: number;
}

async function run(trace: string, pinger: "auto" | "tsping"): Promise<Summary> {
  const r = await runSubcommand(
    (io) => simulateCommand({ io, stderrIsTerminal: false }),
    ["--trace", trace, "--duration", "300", "--seed", "1", "--pinger", pinger, "--json"],
  );
  assertEquals(r.code, 0, r.err);
  return JSON.parse(r.out)[0];
}

/** `x` to `decimals` places, halves rounded up (73.85 gives 73.9, where toFixed gives 73.8). */
function fixed(x: number, decimals: number): string {
  return (Math.round(x * 10 ** decimals) / 10 ** decimals).toFixed(decimals);
}

/** A cell as the table prints it: `RTT / OWD UNIT` with the given decimals. */
function pair(rtt: number, owd: number, decimals: number, unit: string): string {
  return `${fixed(rtt, decimals)} / ${fixed(owd, decimals)} ${unit}`;
}

/** Seconds as the table prints them: two decimals, trailing zeros kept. */
const seconds = (a: number, b: number) => pair(a, b, 2, "s");

Deno.test("docs/simulator.md: the EWMA figures table is what simulate gives today", async () => {
  const rows = tableRows(await Deno.readTextFile(DOC));
  assertEquals(rows.map((r) => r.trace), ["step", "lte", "starlink", "cable-evening"]);
  for (const row of rows) {
    const rtt = await run(row.trace, "auto");
    const owd = await run(row.trace, "tsping");
    const recovery = rtt.worstRecoveryS === null || owd.worstRecoveryS === null
      ? "– (no sudden drop)"
      : seconds(rtt.worstRecoveryS, owd.worstRecoveryS);
    assertEquals(row.cells, [
      pair(rtt.p95DelayMs, owd.p95DelayMs, 1, "ms"),
      pair(rtt.utilisationPct, owd.utilisationPct, 1, "%"),
      recovery,
      seconds(rtt.medianRampupS, owd.medianRampupS),
    ], `${row.trace}: regenerate the table (docs/simulator.md, "Figures")`);
  }
});
