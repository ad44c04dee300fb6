/**
 * Remote mode (docs/remote.md) in the network-namespace testbed: a real sshd in the router
 * namespace, the daemon's code in the LAN client namespace.
 *
 * 1. `remote_apply_median`: milliseconds from a rate decision until tc on the router confirmed it
 *    (the daemon's own remote adapters: one long-lived `tc -batch` ssh session), over 40 changes;
 *    every change is read back from the router.
 * 2. `remote_daemon_cpu_s_per_min`: CPU-seconds per minute of the real daemon (`-P=daemon`,
 *    remote mode, fping) and everything it runs, under 30 s of saturating download.
 *
 * Needs root, iproute2, fping, iperf3, OpenSSH server and client; prints why it skipped otherwise.
 *
 *   deno run -A bench/remote.ts     # -A: Deno reads /proc (CPU figures) only with --allow-all
 */
import { runAsync, sleep } from "../tests/e2e/cmd.ts";
import { median } from "../src/util/stats.ts";
import {
  ADDR,
  IFACE,
  netnsUnavailableReason,
  removeStaleNamespaces,
  Testbed,
} from "../tests/e2e/testbed.ts";
import { startIperfServer, waitIperfServer } from "../tests/e2e/scenario.ts";
import { MGMT, SSH_PORT, sshUnavailableReason, startSshRouter } from "../tests/e2e/ssh_router.ts";
import { treeUsage } from "./_proc_usage.ts";
import { BENCH_LINK, BENCH_TESTBED } from "./_testbed_link.ts";
import {
  daemonRunArgv,
  testbedDaemonFlags,
  writeTestbedReflectors,
} from "../tests/e2e/daemon_flags.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const RUNTIME_DIR = "/tmp/sqm-autorate";
const LOAD_S = 30;

const reason = netnsUnavailableReason() ?? sshUnavailableReason();
if (reason !== undefined) {
  console.log(`remote: skipped: ${reason}`);
  Deno.exit(0);
}
removeStaleNamespaces();
await Deno.mkdir(RUNTIME_DIR, { recursive: true });
const dir = await Deno.makeTempDir({ dir: RUNTIME_DIR, prefix: "remote-bench-" });
// Fill the module cache outside the namespaces (they have no network).
await runAsync([Deno.execPath(), "cache", "--config", `${ROOT}/deno.json`, `${ROOT}/main.ts`], {
  timeoutMs: 120_000,
});
const tb = Testbed.create({
  ...BENCH_TESTBED,
  tempDir: dir,
  namePrefix: "sqmarb-",
});
try {
  const files = await startSshRouter(tb, dir);
  const remote = {
    remote: `root@${MGMT.router}`,
    remote_port: SSH_PORT,
    remote_identity: files.identity,
    remote_known_hosts: files.knownHosts,
  };

  // 1. Decision → confirmed on the router.
  const rates = Array.from({ length: 40 }, (_, i) => 10_000 + (i % 2) * 5_000 + i * 10);
  const apply = await runAsync(
    tb.exec(tb.ns.client, [
      Deno.execPath(),
      "run",
      "-A",
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/bench/_remote_apply.ts`,
      JSON.stringify({
        ...remote,
        shaper: "tbf",
        dl_if: IFACE.routerLan,
        ul_if: IFACE.routerWan,
        htb_classid: "1:1",
        dl_counter: "tx",
        ul_counter: "tx",
        rates,
      }),
    ]),
    { timeoutMs: 180_000 },
  );
  if (apply.code !== 0) throw new Error(`remote apply helper failed: ${apply.stderr.trim()}`);
  const { ms, readBack } = JSON.parse(apply.stdout.trim().split("\n").at(-1)!) as {
    ms: number[];
    readBack: number[];
  };
  const wrong = rates.filter((r, i) => Math.abs(readBack[i] - r) > 1);
  console.log(
    `remote: ${ms.length} changes, first (with the ssh connection) ${ms[0].toFixed(1)} ms, ` +
      `max after it ${Math.max(...ms.slice(1)).toFixed(1)} ms; read back wrong: ${wrong.length}`,
  );
  if (wrong.length > 0) throw new Error(`rates not on the router: ${wrong.join(", ")}`);
  console.log(`metric remote_apply_median ${median(ms.slice(1)).toFixed(2)} ms`);

  // 2. The real daemon in remote mode under load.
  await writeTestbedReflectors(dir);
  const argv = tb.exec(tb.ns.client, [
    ...daemonRunArgv([
      "--remote",
      remote.remote,
      "--remote-port",
      String(remote.remote_port),
      "--remote-identity",
      remote.remote_identity,
      "--remote-known-hosts",
      remote.remote_known_hosts,
      ...testbedDaemonFlags({
        dir,
        upKbit: BENCH_LINK.upKbit,
        downKbit: BENCH_LINK.downKbit,
        statistics: false,
      }),
    ]),
  ]);
  const daemon = tb.track(
    new Deno.Command(argv[0], { args: argv.slice(1), stdout: "null", stderr: "piped" }).spawn(),
  );
  let log = "";
  const logged = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of daemon.stderr) log += decoder.decode(chunk);
  })();
  try {
    for (let i = 0; !log.includes("control started"); i++) {
      if (i === 600) throw new Error(`the daemon did not start:\n${log}`);
      await sleep(100);
    }
    const server = startIperfServer(tb);
    await waitIperfServer(tb);
    const c0 = treeUsage(daemon.pid).cpuS;
    const t0 = performance.now();
    await runAsync(
      tb.exec(tb.ns.client, ["iperf3", "-c", ADDR.server, "-R", "-P", "4", "-t", String(LOAD_S)]),
      { timeoutMs: (LOAD_S + 15) * 1000 },
    );
    const cpuS = treeUsage(daemon.pid).cpuS - c0;
    const minutes = (performance.now() - t0) / 60_000;
    try {
      server.kill("SIGKILL");
    } catch {
      // served its one test
    }
    console.log(`metric remote_daemon_cpu_s_per_min ${(cpuS / minutes).toFixed(2)} s`);
  } finally {
    daemon.kill("SIGTERM");
    await daemon.status;
    await logged.catch(() => {});
  }
} finally {
  tb.destroy();
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
