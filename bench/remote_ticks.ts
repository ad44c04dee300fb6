/**
 * Remote mode over a slow management link (docs/remote.md, "A slow management link"): a real
 * OpenSSH server in a throw-away "router" namespace (src/daemon/ssh_netns_fixture.ts), the link's
 * delay made by bench/_delay_relay.ts as ssh's `ProxyCommand`, and the daemon in this process
 * (its driver, the remote adapters: counter session and `tc -batch` session) with an adjuster
 * that changes both rates every decision, the longest tick there is. Prints, for each link, the
 * tick's length (counter reading, decision, rate changes) and the decisions a second.
 *
 *   flock /work/testbed.lock deno run -A bench/remote_ticks.ts [--rtt 0,20,50] [--jitter]
 *     [--seconds 30] [--replaced] [--changes-per-process N]
 *
 * `--rtt`: round trips in ms (a relay holding each chunk half of it each way; 0: the veth link
 * without a relay); `--jitter`: and an exponential jitter of mean 10 % of the round trip a leg.
 * `--replaced`: the router's upload root qdisc replaced by another kind (pfifo) for the run, as an
 * sqm-scripts restart or an administrator's tree would (docs/remote.md, "A root qdisc replaced on
 * the router"); prints too the ssh connections a second sshd accepted meanwhile, and how long
 * after a TBF is put back the upload rate is made again.
 * `--changes-per-process N`: the `tc -batch` session replaced every N changes instead of every
 * 500 (about one replacement in 30 s at 10 ticks/s), so the ticks during a replacement's
 * connection are many enough for the percentiles (docs/remote.md, "A slow management link").
 * Needs root, iproute2 and the OpenSSH server and client; prints why it skipped otherwise.
 */
import { argValue, exitOnHelp } from "./_args.ts";
import { percentile } from "../src/util/stats.ts";
import { netnsSkipReason } from "../src/util/netns_testing.ts";
import type { TickEvent } from "../src/control/ports.ts";
import { createRemoteAdapters } from "../src/remote/mod.ts";
import {
  sshdSkipReason,
  startFlippingDaemon,
  withSshRouterNetns,
} from "../src/daemon/ssh_netns_fixture.ts";

exitOnHelp(import.meta.url);
const rtts = (argValue("--rtt") ?? "0,20,50").split(",").map(Number);
const jitter = Deno.args.includes("--jitter");
const seconds = Number(argValue("--seconds") ?? 30);
const replaced = Deno.args.includes("--replaced");
const changesArg = argValue("--changes-per-process");
const changesPerProcess = changesArg === undefined ? undefined : Number(changesArg);
/** A root TBF as the fixture makes it (src/util/netns_testing.ts, `addTbfVethPair`). */
const TBF = ["tbf", "rate", "1mbit", "burst", "10kb", "latency", "20ms"];
const RELAY = new URL("./_delay_relay.ts", import.meta.url).pathname;

const reason = (await netnsSkipReason()) ?? (await sshdSkipReason());
if (reason !== undefined) {
  console.log(`remote_ticks: skipped: ${reason}`);
  Deno.exit(0);
}

await withSshRouterNetns("sqma-rtk", {}, async (r) => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-rtk-" });
  try {
    for (const rtt of rtts) {
      const jitterMs = jitter ? rtt / 10 : 0;
      const sshPath = rtt === 0 ? r.sshPath : `${dir}/ssh-${rtt}`;
      if (rtt > 0) {
        const proxy = `${Deno.execPath()} run --allow-net ${RELAY} %h %p ${rtt / 2} ${jitterMs}`;
        await Deno.writeTextFile(
          sshPath,
          `#!/bin/sh\nexec ip netns exec ${r.client} ssh -o 'ProxyCommand=${proxy}' "$@"\n`,
        );
        await Deno.chmod(sshPath, 0o755);
      }
      const adapters = createRemoteAdapters(r.d.settings, { sshPath, changesPerProcess });
      const ticks: TickEvent[] = [];
      const daemon = startFlippingDaemon(r, adapters, { ticks });
      try {
        for (let i = 0; ticks.length < 20; i++) {
          if (i === 600) throw new Error("no ticks within 60 s");
          await new Promise((res) => setTimeout(res, 100));
        }
        const accepted = async () =>
          (await r.sshdLog()).split("\n").filter((l) => l.includes("Accepted publickey")).length;
        if (replaced) await r.d.tc(["qdisc", "replace", "dev", "vul", "root", "pfifo"]);
        const acceptedBefore = await accepted();
        const from = ticks.length;
        await new Promise((res) => setTimeout(res, seconds * 1000));
        const run = ticks.slice(from);
        const sshPerS = (await accepted() - acceptedBefore) / seconds;
        const ms = run.map((t) => t.durationS * 1000);
        const spanS = run.at(-1)!.monotonicS - ticks[from - 1].monotonicS;
        const name = `rtt${rtt}${jitter ? "j" : ""}${replaced ? "_replaced" : ""}` +
          (changesPerProcess === undefined ? "" : `_cpp${changesPerProcess}`);
        console.log(
          `${name}: ${run.length} ticks, tick p50 ${percentile(ms, 50).toFixed(1)} ms, ` +
            `p90 ${percentile(ms, 90).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms, ` +
            `${(run.length / spanS).toFixed(2)} decisions/s`,
        );
        console.log(`metric remote_tick_p50_${name} ${percentile(ms, 50).toFixed(1)} ms`);
        console.log(`metric remote_tick_p90_${name} ${percentile(ms, 90).toFixed(1)} ms`);
        // The ticks that ask the router why a change fails (--replaced) are the longest.
        console.log(`metric remote_tick_p99_${name} ${percentile(ms, 99).toFixed(1)} ms`);
        console.log(`metric remote_tick_max_${name} ${Math.max(...ms).toFixed(1)} ms`);
        console.log(`metric remote_decisions_${name} ${(run.length / spanS).toFixed(2)} /s`);
        console.log(`metric remote_ssh_spawns_${name} ${sshPerS.toFixed(2)} /s`);
        if (replaced) {
          const t0 = performance.now();
          await r.d.tc(["qdisc", "replace", "dev", "vul", "root", ...TBF]);
          while ((await r.d.tbf("vul")).rateKbit < 8000) {
            if (performance.now() - t0 > 60_000) throw new Error("upload not made within 60 s");
            await new Promise((res) => setTimeout(res, 50));
          }
          const backS = (performance.now() - t0) / 1000;
          console.log(`metric remote_put_back_made_${name} ${backS.toFixed(2)} s`);
        }
      } finally {
        await daemon.stop();
        await adapters.counters.close?.();
        if (replaced) await r.d.tc(["qdisc", "replace", "dev", "vul", "root", ...TBF]);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
