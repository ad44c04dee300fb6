/**
 * The daemon with `counters_dir` against real `ip`, real bind mounts (made by
 * packaging/sqm-autorate-counters) and a veth pair deleted and created again in a throw-away
 * network namespace: the readings go on through `ip` at once, with one WARN; the files are taken
 * again after the service mounts the new devices, with one INFO; without a new mount the daemon
 * stays on `ip` without another WARN (docs/footprint.md, "The counters from /sys").
 */
import { assert, assertEquals } from "../util/assert.ts";
import { ExitCode } from "../util/exit_codes.ts";
import type { LogRecord } from "../log/logger.ts";
import { configureLogging, formatRecord, resetLogging, stageLogger } from "../log/mod.ts";
import { createCounterReader, IpBatchSource, SysfsLinkSource } from "../counters/mod.ts";
import type { LinkStatsSource } from "../counters/ip_link.ts";
import type { LinkStats } from "../counters/types.ts";
import type { Clock } from "../util/clock.ts";
import {
  addTbfVethPair,
  must,
  needs,
  netnsSkipReason,
  sh,
  withNetns,
} from "../util/netns_testing.ts";
import { withDaemonNetns } from "./netns_fixture.ts";

const reason = await netnsSkipReason() ??
  ((await sh("nsenter", ["--version"])).ok ? undefined : "no nsenter");

const HELPER = new URL("../../packaging/sqm-autorate-counters", import.meta.url).pathname;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (polling, at most `ms`) until `ok()` holds. */
async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 8000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

/** The real clock, `skip(s)` seconds ahead: the 30 s of the retries without waiting for them. */
function skippingClock(): Clock & { skip(s: number): void } {
  let offset = 0;
  return {
    monotonicS: () => performance.now() / 1000 + offset,
    wallMs: () => Date.now(),
    skip: (s) => void (offset += s),
  };
}

/** Each reading of a source: whether it came from the files, and what it gave. */
interface Reading {
  files: boolean;
  stats: Map<string, LinkStats> | null;
}

function recording(source: SysfsLinkSource, readings: Reading[]): LinkStatsSource {
  return {
    stats: async (names, options) => {
      const stats = await source.stats(names, options);
      readings.push({ files: source.usingFiles, stats });
      return stats;
    },
    close: () => source.close(),
  };
}

/** `ip -j -s link` of both devices now, as the daemon's ip source reads them. */
async function viaIp(ns: string): Promise<Map<string, LinkStats> | null> {
  const ip = new IpBatchSource({ netns: ns });
  try {
    return await ip.stats(["vdl", "vul"]);
  } finally {
    await ip.close();
  }
}

Deno.test({
  ...needs(
    "daemon in a netns with counters_dir: a veth pair re-created reads through ip at once, " +
      "the files again after the service's remount (or ip on, one WARN, without it)",
    reason,
  ),
  fn: () =>
    withNetns("sqma-sysfs16", (ns) =>
      // Ten readings a second, as under the capacity controller.
      withDaemonNetns(ns, { tick_interval: 0.1 }, async (d) => {
        const tmp = await Deno.makeTempDir({ prefix: "sqma-sysfs16-" });
        const dir = `${tmp}/sys`;
        const sysfs = `${tmp}/sysfs`;
        // The service's helper, reading the settings from a stand-in for the binary.
        const prog = `${tmp}/prog`;
        await Deno.writeTextFile(
          prog,
          `#!/bin/sh\necho "counters_dir: ${dir}/ (string)"\n` +
            `echo "dl_if: vdl (string)"\necho "ul_if: vul (string)"\n`,
        );
        await Deno.chmod(prog, 0o755);
        const helper = (...args: string[]) =>
          new Deno.Command(HELPER, { args, env: { SYSFS: sysfs } }).output().then((r) => {
            if (!r.success) throw new Error(`${args[0]}: ${new TextDecoder().decode(r.stderr)}`);
          });
        // The namespace's own sysfs (a router has its devices in /sys).
        const mountSysfs = async () => {
          await Deno.mkdir(sysfs, { recursive: true });
          await must("nsenter", [`--net=/run/netns/${ns}`, "mount", "-t", "sysfs", "sysfs", sysfs]);
        };
        const records: LogRecord[] = [];
        configureLogging("DEBUG", { sink: (r) => void records.push(r) });
        const clock = skippingClock();
        const readings: Reading[] = [];
        const source = new SysfsLinkSource(dir, {
          fallback: new IpBatchSource({ netns: ns, logger: stageLogger("counters") }),
          clock,
          logger: stageLogger("counters"),
        });
        const counters = createCounterReader(d.settings, { source: recording(source, readings) });
        const log = () => records.map(formatRecord).join("");
        const at = (re: RegExp, level?: string) =>
          records.filter((r) => re.test(r.rawMessage) && (level ?? r.level) === r.level);
        const fileReadings = () => readings.filter((r) => r.files).length;
        try {
          await mountSysfs();
          await helper("mount", prog, "/dev/null");
          const daemon = d.start({ counters });
          try {
            await until(() => fileReadings() >= 20, "readings from the files");
            // The files' counters are ip's (no traffic: both read the same still numbers).
            await until(async () => {
              const last = readings.at(-1)!;
              return last.files && JSON.stringify([...last.stats!]) ===
                  JSON.stringify([...(await viaIp(ns))!]);
            }, "the files' reading to equal ip's");
            assertEquals(at(/cannot read the counters/).length, 0, log());

            // The pair is deleted and created again (new ifindexes): the open files read ENODEV.
            await must("ip", ["-n", ns, "link", "del", "vdl"]);
            await addTbfVethPair(ns, "vdl", "vul");
            const fresh = (await viaIp(ns))!;
            await until(
              () => readings.at(-1)?.stats?.get("vdl")?.ifindex === fresh.get("vdl")!.ifindex,
              "a reading of the new devices",
            ).catch((e) => {
              console.log(log(), readings.length, readings.slice(-3), fresh);
              throw e;
            });
            const warns = at(/cannot read the counters/, "warning");
            assertEquals(warns.length, 1, log());
            const afterDelete = readings.length;
            await until(() => readings.length >= afterDelete + 10, "ten more readings");
            assert(readings.slice(afterDelete).every((r) => !r.files && r.stats?.size === 2));

            // Nothing remounts: the retry finds the stale mount empty, DEBUG only, still ip.
            clock.skip(31);
            const beforeRetry = readings.length;
            await until(() => readings.length >= beforeRetry + 10, "ten readings after a retry");
            assert(readings.slice(beforeRetry).every((r) => !r.files && r.stats?.size === 2));
            assertEquals(at(/cannot read the counters/, "warning").length, 1, log());
            assert(at(/cannot read the counters/, "debug").length >= 1, log());

            // The service mounts the new devices (hotplug): the next retry takes the files.
            await sh("umount", ["-l", sysfs]);
            await mountSysfs();
            await helper("remount", prog, "/dev/null", "vdl");
            await helper("remount", prog, "/dev/null", "vul");
            clock.skip(31);
            await until(() => readings.at(-1)?.files === true, "readings from the new mounts");
            assertEquals(readings.at(-1)!.stats!.get("vdl")!.ifindex, fresh.get("vdl")!.ifindex);
            assertEquals(at(/counters read from .* again/, "info").length, 1, log());
            assertEquals(at(/cannot read the counters/, "warning").length, 1, log());
            assertEquals(await daemon.stop(), ExitCode.OK);
          } finally {
            await daemon.stop();
          }
        } finally {
          resetLogging();
          await counters.close();
          await helper("umount", prog, "/dev/null").catch(() => {});
          await sh("umount", ["-l", sysfs]);
          // Never recurse into a mount that is still there (Deno reads /proc only with -A).
          const left = (await sh("grep", ["-qF", tmp, "/proc/self/mountinfo"])).ok;
          if (!left) await Deno.remove(tmp, { recursive: true });
        }
      })),
});
