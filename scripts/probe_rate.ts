/**
 * The ICMP echo requests the real daemon sends, counted on the wire (docs/controllers.md, "v86";
 * issue 11: at most 20 a second). Runs `main.ts run` with the default settings and fping in a
 * private network namespace (root) where every address answers (the embedded list, or a list
 * file), captures the requests with tcpdump, and prints the most within one whole second and
 * within any sliding 1 s window, and each window above 20 with what was probed in it.
 *
 *   deno run -A scripts/probe_rate.ts --seconds 70                  # the embedded list
 *   deno run -A scripts/probe_rate.ts --seconds 60 --live 3 --silent 7   # a short pool (v82's watch)
 *   deno run -A scripts/probe_rate.ts --seconds 40 --hup 10,20      # SIGHUPs at 10 and 20 s
 *   deno run -A scripts/probe_rate.ts --seconds 40 --runs 3         # three runs, one line each
 *
 * `--live N --silent K` use a reflector list file of N answering and K silent reflectors (their
 * probes leave by a veth and are never answered) instead of the embedded list; `--silence IP,…`
 * makes those of the embedded list silent (two of the initial peers: a reselection at once).
 * `--pinger ping` runs iputils ping (one process a reflector) instead of fping; `--tick S` sets
 * `tick_interval`. `--log` prints
 * the daemon's log after each run.
 */
import { argValue, exitOnHelp } from "../bench/_args.ts";
import { type ProbeRateOptions, probeRateRun } from "../src/util/probe_rate_testing.ts";

exitOnHelp(import.meta.url);

if (import.meta.main) {
  const seconds = Number(argValue("--seconds") ?? 60);
  const runs = Number(argValue("--runs") ?? 1);
  const hup = argValue("--hup");
  const options: ProbeRateOptions = {
    seconds,
    live: argValue("--live") === undefined ? undefined : Number(argValue("--live")),
    silent: argValue("--silent") === undefined ? undefined : Number(argValue("--silent")),
    hupAtS: hup === undefined ? undefined : hup.split(",").map(Number),
    silence: argValue("--silence")?.split(","),
    pinger: argValue("--pinger") === "ping" ? "ping" : "fping",
    tickS: argValue("--tick") === undefined ? undefined : Number(argValue("--tick")),
  };
  for (let k = 0; k < runs; k++) {
    const r = await probeRateRun(options);
    console.log(
      `run ${k + 1}: ${r.sent} requests in ${r.spanS.toFixed(1)} s ` +
        `(${
          (r.sent / Math.max(1, r.spanS)).toFixed(2)
        }/s), most in a whole second ${r.wholeSecond}, ` +
        `in a 1 s window ${r.window}, windows above 20: ${r.over.length}`,
    );
    for (const w of r.over) console.log(`  at ${w.atS} s: ${w.count} (${w.probed})`);
    if (Deno.args.includes("--log")) console.log(r.log);
  }
}
