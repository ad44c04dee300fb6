/**
 * The real daemon on aarch64: the bundle on the aarch64 Deno (qemu-user on x86_64) with exactly
 * the binary's permission set and V8 flags, inside a throw-away network namespace with TBF
 * shapers on a veth pair and real fping (reflectors on the namespace's own loopback). It must take
 * over the shapers with real `tc`, keep re-tuning them, and set the exit rate (the base rate) on
 * SIGTERM.
 * tc, ip and fping are host executables the emulated daemon spawns.
 */
import { assert, assertEquals, waitUntil } from "../../src/util/assert.ts";
import {
  addTbfVethPair,
  netnsSkipReason,
  rootQdisc,
  withNetns,
} from "../../src/util/netns_testing.ts";
import { binaryRunArgs, exists } from "../release/run_deno.ts";
import { aarch64Test, SETUP } from "./setup.ts";

const BASE_DL = 50_000;
const BASE_UL = 10_000;
/** The daemon's runtime directory (readable and writable under the manifest). */
const STATS_DIR = "/tmp/sqm-autorate";
/** Emulated start-up alone takes tens of seconds on a busy machine. */
const STEP_TIMEOUT_MS = 300_000;

function fpingMissing(): string | undefined {
  const dirs = (Deno.env.get("PATH") ?? "").split(":");
  return dirs.some((d) => exists(`${d}/fping`)) ? undefined : "fping is not installed";
}

Deno.test({
  ...aarch64Test(
    "aarch64 daemon in a netns: takes over TBF with real tc, sets the exit rate",
    await netnsSkipReason() ?? fpingMissing(),
  ),
  fn: () =>
    withNetns("sqma-a64", async (ns) => {
      const setup = SETUP!;
      const statsExisted = exists(STATS_DIR);
      const dir = `${STATS_DIR}/aarch64-daemon-${Deno.pid}`;
      await Deno.mkdir(dir, { recursive: true });
      try {
        await addTbfVethPair(ns, "vdl", "vul");
        const reflectors = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"];
        await Deno.writeTextFile(
          `${dir}/reflectors.csv`,
          "reflector_ip,ip_version,description\n" +
            reflectors.map((ip) => `${ip},4,namespace loopback\n`).join(""),
        );
        const flags = [
          "run",
          "--download-interface",
          "vdl",
          "--upload-interface",
          "vul",
          "--download-base-kbits",
          String(BASE_DL),
          "--upload-base-kbits",
          String(BASE_UL),
          "--shaper",
          "tbf",
          "--pinger",
          "fping",
          "--reflector-list-file",
          `${dir}/reflectors.csv`,
          "--num-reflectors",
          String(reflectors.length),
          "--suppress-statistics",
          "true",
          // A Lua plugin, so the Lua engine runs in the daemon on aarch64 too; the per-call time
          // limit is wall time, and the emulator needs far more than the default.
          "--plugin-scripts",
          "builtin:log_readings",
          "--lua-time-limit-ms",
          "10000",
          // Its own lock directory: other tests' daemons may shape devices of the same names.
          "--state-dir",
          dir,
        ];
        const [exe, ...before] = setup.deno;
        const child = new Deno.Command("ip", {
          args: ["netns", "exec", ns, exe, ...before, ...binaryRunArgs(setup.bundle, flags)],
          env: setup.env,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const output = child.output();
        let exited = false;
        output.finally(() => exited = true);

        // Sample both shapers until the daemon has exited.
        const seen: [number, number][] = [];
        const sampler = (async () => {
          while (!exited) {
            const now: [number, number] = [
              (await rootQdisc(ns, "vdl")).rateKbit,
              (await rootQdisc(ns, "vul")).rateKbit,
            ];
            const last = seen.at(-1);
            if (last === undefined || last[0] !== now[0] || last[1] !== now[1]) seen.push(now);
            await new Promise((r) => setTimeout(r, 250));
          }
        })();
        // Installed 1 Mbit/s, then the minimum while the first baselines are measured, then the
        // rate control starts from (a download rate that is neither).
        const minDl = BASE_DL * 0.2;
        const controlled = (rates = seen) => rates.some(([dl]) => dl !== 1000 && dl !== minDl);
        // On a timeout the assertions below report what was seen, with the daemon's log.
        await waitUntil(() => exited || controlled(), STEP_TIMEOUT_MS, "rate control").catch(
          () => {},
        );
        if (!exited) child.kill("SIGTERM");
        const beforeTerm = [...seen];
        // A daemon that ignores SIGTERM fails below (exit 137) instead of hanging the suite.
        const killer = setTimeout(() => {
          if (!exited) child.kill("SIGKILL");
        }, STEP_TIMEOUT_MS / 2);
        const out = await output;
        clearTimeout(killer);
        await sampler;
        const final = [
          (await rootQdisc(ns, "vdl")).rateKbit,
          (await rootQdisc(ns, "vul")).rateKbit,
        ];
        const log = `rates seen ${JSON.stringify(beforeTerm)}\n--- stderr\n` +
          new TextDecoder().decode(out.stderr);
        assertEquals(beforeTerm[0], [1000, 1000], log);
        assert(beforeTerm.some(([dl]) => dl === minDl), `the minimum first: ${log}`);
        assert(controlled(beforeTerm), `rate control: ${log}`);
        assertEquals(out.code, 0, log);
        assertEquals(final, [BASE_DL, BASE_UL], `exit rate: ${log}`);
        console.log(`aarch64 daemon: rates (dl, ul) ${JSON.stringify(beforeTerm)}, exit ${final}`);
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        if (!statsExisted) await Deno.remove(STATS_DIR).catch(() => {});
      }
    }),
});
