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
 * `--traffic`: UDP sent out of both router links faster than their TBFs pass it (the flipping
 * daemon holds them at about 20 and 8 Mbit/s), so each decision's load should read the TBF's rate;
 * prints how far the decisions' loads scatter around their median (rms and p90, %): the error a
 * jittery counter read puts in a load (docs/remote.md, "Why jitter costs the upload at 50 ms").
 * Needs root, iproute2 and the OpenSSH server and client; prints why it skipped otherwise.
 */
import { argValue, exitOnHelp } from "./_args.ts";
import { percentile } from "../src/util/stats.ts";
import { must, netnsSkipReason } from "../src/util/netns_testing.ts";
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
const traffic = Deno.args.includes("--traffic");
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
      const pings = traffic ? await startTraffic(r.d.ns) : [];
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
          (changesPerProcess === undefined ? "" : `_cpp${changesPerProcess}`) +
          (traffic ? "_traffic" : "");
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
        if (traffic) {
          for (const dir of ["dl", "ul"] as const) {
            const kbit = run.flatMap((t) =>
              t.readings === undefined
                ? []
                : [dir === "dl" ? t.readings.dlThroughput : t.readings.ulThroughput]
            );
            const median = percentile(kbit, 50);
            const off = kbit.map((k) => 100 * Math.abs(k / median - 1));
            const rms = Math.sqrt(off.reduce((sum, x) => sum + x * x, 0) / off.length);
            console.log(
              `${name}: ${dir} load ${median.toFixed(0)} kbit/s median over ${kbit.length} ` +
                `decisions, off it rms ${rms.toFixed(2)} %, p90 ${
                  percentile(off, 90).toFixed(2)
                } %`,
            );
            console.log(`metric remote_load_rms_${dir}_${name} ${rms.toFixed(2)} pct`);
            console.log(
              `metric remote_load_p90_${dir}_${name} ${percentile(off, 90).toFixed(2)} pct`,
            );
          }
        }
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
        for (const p of pings) {
          p.kill("SIGKILL");
          await p.status;
        }
        await daemon.stop();
        await adapters.counters.close?.();
        if (replaced) await r.d.tc(["qdisc", "replace", "dev", "vul", "root", ...TBF]);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/**
 * UDP datagrams sent out of each router link to an address routed there with the other end's MAC
 * (dropped there, counted by both ends), 1400 bytes, about 45 Mbit/s out of `vdl` and 18 out of
 * `vul`: more than the TBFs pass, so their rates set the loads. (ping sends too few when nothing
 * answers.)
 */
async function startTraffic(ns: string): Promise<Deno.ChildProcess[]> {
  const mac = async (dev: string) =>
    JSON.parse(await must("ip", ["-n", ns, "-j", "link", "show", "dev", dev]))[0].address;
  const to = { vdl: "10.79.2.9", vul: "10.79.1.9" };
  for (const [dev, peer] of [["vdl", "vul"], ["vul", "vdl"]] as const) {
    await must("ip", ["-n", ns, "route", "replace", `${to[dev]}/32`, "dev", dev]);
    await must("ip", [
      ...["-n", ns, "neigh", "replace", to[dev], "lladdr", await mac(peer)],
      ...["nud", "permanent", "dev", dev],
    ]);
  }
  // A send the TBF drops may fail (ENOBUFS): the next is sent anyway.
  const code = `const c = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
const b = new Uint8Array(1400);
const send = (hostname) => c.send(b, { transport: "udp", hostname, port: 9 }).catch(() => {});
for (;;) {
  for (let i = 0; i < 10; i++) send("${to.vdl}");
  for (let i = 0; i < 4; i++) send("${to.vul}");
  await new Promise((r) => setTimeout(r, 1));
}`;
  return [
    new Deno.Command("ip", {
      args: ["netns", "exec", ns, Deno.execPath(), "eval", "--unstable-net", code],
      stdout: "null",
      stderr: "null",
    }).spawn(),
  ];
}
