/**
 * Remote mode end to end (docs/remote.md): a real OpenSSH server in the testbed's router
 * namespace with tbf shapers, and the real daemon (`-P=daemon`) in the LAN client namespace
 * shaping the router over ssh while download load runs. Checks: the router's rates follow the
 * daemon's decisions, a killed and restarted sshd is survived, SIGTERM sets the exit rate on the
 * router, and a wrong host key or a missing shaper exits 69 with a message saying so.
 */
import { assert, assertEquals } from "../../src/util/assert.ts";
import { runAsync, sleep } from "./cmd.ts";
import { parseStatsCsv } from "./probes.ts";
import { startIperfServer, waitIperfServer } from "./scenario.ts";
import {
  DAEMON_IFACES,
  daemonRunArgv,
  testbedDaemonFlags,
  writeTestbedReflectors,
} from "./daemon_flags.ts";
import { ADDR, netnsUnavailableReason, removeStaleNamespaces, Testbed } from "./testbed.ts";
import {
  killSshd,
  MGMT,
  SSH_PORT,
  type SshRouterFiles,
  sshUnavailableReason,
  startSshd,
  startSshRouter,
} from "./ssh_router.ts";

const RUNTIME_DIR = "/tmp/sqm-autorate";
const DOWN_KBIT = 20_000;
const UP_KBIT = 10_000;

const reason = netnsUnavailableReason() ?? sshUnavailableReason();

function daemonArgv(
  tb: Testbed,
  dir: string,
  extra: Pick<SshRouterFiles, "knownHosts" | "identity">,
) {
  return tb.exec(tb.ns.client, [
    ...daemonRunArgv([
      "--remote",
      `root@${MGMT.router}`,
      "--remote-port",
      String(SSH_PORT),
      "--remote-identity",
      extra.identity,
      "--remote-known-hosts",
      extra.knownHosts,
      ...testbedDaemonFlags({ dir, upKbit: UP_KBIT, downKbit: DOWN_KBIT }),
      "--download-delay-ms",
      "7.5",
      "--upload-delay-ms",
      "7.5",
    ]),
  ]);
}

function statsRows(dir: string) {
  try {
    return parseStatsCsv(Deno.readTextFileSync(`${dir}/stats.csv`));
  } catch {
    return [];
  }
}

async function waitFor(what: string, timeoutS: number, ok: () => boolean): Promise<void> {
  const until = Date.now() + timeoutS * 1000;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutS} s waiting for ${what}`);
    await sleep(200);
  }
}

Deno.test({
  name: `e2e remote: the daemon shapes a router over ssh${reason ? ` (ignored: ${reason})` : ""}`,
  ignore: reason !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
}, async (t) => {
  removeStaleNamespaces();
  await Deno.mkdir(RUNTIME_DIR, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: RUNTIME_DIR, prefix: "e2e-remote-" });
  let tb: Testbed | undefined;
  try {
    tb = Testbed.create({
      shaper: "tbf",
      ispDownKbit: DOWN_KBIT,
      ispUpKbit: UP_KBIT,
      ispBufferMs: 300,
      routerBufferMs: 20,
      routerDownKbit: 1_000_000,
      routerUpKbit: 1_000_000,
      tempDir: dir,
      congestionControl: "cubic,reno",
    });
    const bed = tb;
    await writeTestbedReflectors(dir);
    const keys = await startSshRouter(bed, dir);
    const decoder = new TextDecoder();

    await t.step("a wrong host key exits 69 and says so", async () => {
      const r = await runAsync(
        daemonArgv(bed, dir, { ...keys, knownHosts: keys.wrongKnownHosts }),
        {
          timeoutMs: 60_000,
        },
      );
      assertEquals(r.code, 69, r.stderr);
      assert(/host key/i.test(r.stderr), `no host-key message: ${r.stderr}`);
    });

    await t.step("check-config checks the router over ssh", async () => {
      const checkConfig = (files: Pick<SshRouterFiles, "knownHosts" | "identity">) => {
        const argv = daemonArgv(bed, dir, files);
        argv[argv.lastIndexOf("run")] = "check-config";
        return runAsync(argv, { timeoutMs: 60_000 });
      };
      const good = await checkConfig(keys);
      assertEquals(good.code, 0, good.stderr);
      assert(good.stdout.includes(`root@${MGMT.router}`), "the remote setting is listed");
      const bad = await checkConfig({ ...keys, knownHosts: keys.wrongKnownHosts });
      assertEquals(bad.code, 69, bad.stderr);
      assert(/host key/.test(bad.stderr), bad.stderr);
    });

    await t.step("a missing shaper on the router exits 69 naming the interface", async () => {
      const argv = daemonArgv(bed, dir, keys);
      argv[argv.indexOf("--shaper") + 1] = "htb";
      const r = await runAsync(argv, { timeoutMs: 60_000 });
      assertEquals(r.code, 69, r.stderr);
      assert(r.stderr.includes(DAEMON_IFACES.download), `interface not named: ${r.stderr}`);
    });

    await t.step(
      "rates on the router follow the daemon; sshd restart survived; exit rate",
      async () => {
        const cmd = daemonArgv(bed, dir, keys);
        const daemon = bed.track(
          new Deno.Command(cmd[0], { args: cmd.slice(1), stdout: "piped", stderr: "piped" })
            .spawn(),
        );
        let log = "";
        const logDone = (async () => {
          for await (const c of daemon.stderr) log += decoder.decode(c);
        })();
        const outDone = daemon.stdout.pipeTo(new WritableStream());
        const server = bed.track(startIperfServer(bed));
        await waitIperfServer(bed);
        const load = (seconds: number) =>
          bed.track(
            new Deno.Command("ip", {
              args: bed.exec(bed.ns.client, [
                "iperf3",
                "-c",
                ADDR.server,
                "-R",
                "-P",
                "4",
                "-t",
                String(seconds),
              ]).slice(1),
              stdout: "null",
              stderr: "null",
            }).spawn(),
          );
        try {
          await waitFor("the first statistics rows", 60, () => statsRows(dir).length >= 4);
          // The router's own `ip` tells its LAN veth from an IFB (not the interface's name).
          assert(
            log.includes("not carrying the daemon's probes (not an IFB by its link kind)"),
            `start-up line on the shaper queues:\n${log.slice(0, 3000)}`,
          );
          const first = load(12);
          await waitFor("a rate change under load", 20, () => {
            const rows = statsRows(dir);
            return new Set(rows.slice(-10).map((r) => r.dlrate)).size > 1;
          });
          // The router's rate equals one the daemon decided recently (decisions go out at once).
          // The stats file is written every tenth row (STATS_FLUSH_S), so a rate read now may be
          // newer than its last row: the next write must hold it.
          const assertFollows = async (when: string) => {
            const onRouter = Math.round(bed.routerRate("down"));
            const rowsBefore = statsRows(dir).length;
            await waitFor(
              `the next statistics write (${when})`,
              15,
              () => statsRows(dir).length > rowsBefore,
            );
            const decided = new Set(
              statsRows(dir).slice(Math.max(0, rowsBefore - 6)).map((r) => Math.round(r.dlrate)),
            );
            assert(
              [...decided].some((d) => Math.abs(d - onRouter) <= 1),
              `${when}: router down rate ${onRouter} not among the daemon's last decisions ` +
                `${[...decided]}`,
            );
          };
          await assertFollows("under load");
          await first.status;

          const killed = killSshd(bed);
          assert(
            killed >= 3,
            `killed ${killed} sshd processes: the listener and two sessions expected`,
          );
          await sleep(3000);
          const exited = await Promise.race([
            daemon.status.then(() => true),
            sleep(1).then(() => false),
          ]);
          assert(!exited, `the daemon exited when sshd died:\n${log.slice(-2000)}`);
          const rowsBefore = statsRows(dir).length;
          await startSshd(bed, dir);
          const second = load(15);
          await waitFor("rates to move again after sshd came back", 40, () => {
            const rows = statsRows(dir).slice(rowsBefore);
            return new Set(rows.map((r) => r.dlrate)).size > 2;
          });
          await assertFollows("after the sshd restart");
          await second.status;
          daemon.kill("SIGTERM");
          const st = await daemon.status;
          await Promise.all([logDone, outDone.catch(() => {})]);
          assertEquals(st.code, 0, log.slice(-2000));
          assertEquals(
            Math.round(bed.routerRate("down")),
            DOWN_KBIT,
            "exit rate (base) on the router",
          );
          assertEquals(Math.round(bed.routerRate("up")), UP_KBIT, "exit rate (base) on the router");
          const warnings = log.split("\n").filter((l) => /WARN/.test(l) && /counters on/.test(l));
          assert(warnings.length <= 2, `outage logged more than once:\n${warnings.join("\n")}`);
        } catch (e) {
          console.log(
            `daemon log tail:\n${log.slice(-3000)}\nstats tail: ${
              JSON.stringify(statsRows(dir).slice(-8))
            }`,
          );
          throw e;
        } finally {
          try {
            daemon.kill("SIGKILL");
          } catch {
            // exited
          }
          try {
            server.kill("SIGKILL");
          } catch {
            // exited
          }
        }
      },
    );
  } finally {
    tb?.destroy();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
