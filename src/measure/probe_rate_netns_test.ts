/**
 * Issue 11's 20 probes a second, counted on the wire: the real daemon with fping and the embedded
 * reflector list in a private network namespace (root) where every address answers but two of the
 * initial peers, so that it reselects at once; tcpdump counts the echo requests it sends. A cycle
 * probing the 6 peers and 20 new draws at the tick sent 52 in a second (docs/controllers.md,
 * "v86"); the draws are now probed apart within the 20. With iputils `ping` (one process a
 * reflector) the draws' processes started within one tick sent 22–29 ("v86, continued"); they
 * are now spread over the draws' period.
 */
import { assert } from "../util/assert.ts";
import { needs, netnsSkipReason } from "../util/netns_testing.ts";
import { probeRateRun } from "../util/probe_rate_testing.ts";
import { INITIAL_PEERS } from "../reflectors/pool.ts";
import { MAX_PROBES_PER_S } from "../reflectors/short_pool.ts";

const reason = (await netnsSkipReason()) ??
  ((await new Deno.Command("sh", { args: ["-c", "command -v tcpdump"], stdout: "null" }).output())
      .success
    ? undefined
    : "no tcpdump");

/**
 * When a run has seen enough, 2 s before its end: the cycle's end and the new peers' first
 * seconds; with `ping`, through the second cycle (its draws' processes started within a tick sent
 * 24–29 in a window there, the first cycle's 20–22), now the timer's, 30 s after the first, or the
 * run's end: until the twenty-second session the loop's request at the first one's start began it
 * at once; now that request is folded into the first (docs/algorithm.md §8.2).
 */
const SELECTED = {
  fping: /Reselection 1:[\s\S]*Selected reflectors/,
  ping: /Reselection 2:[\s\S]*Selected (the same )?reflectors/,
};

for (const pinger of ["fping", "ping"] as const) {
  Deno.test(
    needs(
      `netns: a reselection with the embedded list sends at most 20 echo requests in any 1 s (${pinger})`,
      reason,
    ),
    async () => {
      const r = await probeRateRun({
        prefix: "sqma-rate",
        seconds: 40,
        pinger,
        silence: INITIAL_PEERS.slice(0, 2),
        stopWhen: { log: (t) => SELECTED[pinger].test(t), tailS: 2 },
      });
      assert(/Reselection 1: probing (2\d) candidates/.test(r.log), r.log);
      assert(r.log.includes("Selected reflectors"), r.log);
      const where = r.over.map((w) => `${w.count} at ${w.atS} s: ${w.probed}`).join("\n");
      assert(r.window <= MAX_PROBES_PER_S, `${r.window} in a 1 s window:\n${where}`);
      console.log(`${pinger}: ${r.sent} echo requests, the most in a 1 s window ${r.window}`);
    },
  );
}
