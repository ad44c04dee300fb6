/**
 * The daemon under the release permission set (`-P=daemon`) against real `tc`, `ip` and fping
 * in a throw-away network namespace, its download on an IFB, idle (the rates held): the root
 * qdisc given another rate, deleted, added again, and the IFB deleted and created again are all
 * put right within SHAPER_REFRESH_S (docs/operation.md, "An interface or its qdisc changed under
 * the daemon").
 */
import { assert } from "../util/assert.ts";
import { SHAPER_REFRESH_S } from "../control/ports.ts";
import {
  addTbfVethPair,
  collectStderr,
  daemonRuntimeDir,
  must,
  needs,
  netnsSkipReason,
  pollUntil,
  rootQdisc,
  sh,
  spawnDaemonInNetns,
  withNetns,
} from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

const TBF = ["tbf", "rate", "3mbit", "burst", "10kb", "latency", "20ms"];

/** `pollUntil` every 200 ms for at most `s` seconds; the seconds it took. */
async function within<T>(read: () => Promise<T>, ok: (v: T) => boolean, s: number, what: string) {
  return (await pollUntil(read, ok, { ms: s * 1000, what, everyMs: 200 })).seconds;
}

Deno.test({
  ...needs(
    "daemon under -P=daemon in a netns: a qdisc or IFB changed by someone else is put right",
    reason,
  ),
  fn: () =>
    withNetns("sqma-qdisc", async (ns) => {
      const addIfb = async () => {
        await must("ip", ["-n", ns, "link", "add", "ifbq", "type", "ifb"]);
        await must("ip", ["-n", ns, "link", "set", "ifbq", "up"]);
        await must("tc", ["-n", ns, "qdisc", "add", "dev", "ifbq", "root", ...TBF]);
      };
      await addIfb();
      await addTbfVethPair(ns, "vqul", "vqpeer");
      const dir = await daemonRuntimeDir("qdisc-");
      const child = spawnDaemonInNetns(ns, [
        "run",
        ...["--upload-interface", "vqul", "--download-interface", "ifbq"],
        ...["--upload-base-kbits", "10000", "--download-base-kbits", "50000"],
        ...["--pinger", "fping", "--reflector-list-file", `${dir}/reflectors.csv`],
        ...["--shaper", "tbf", "--suppress-statistics", "--state-dir", dir],
        ...["--idle-delay", "1", "--idle-rate", "leave"],
      ]);
      const { log, done: collecting } = collectStderr(child);
      const qdisc = async () => {
        const r = await sh("tc", ["-n", ns, "-j", "qdisc", "show", "dev", "ifbq", "root"]);
        return r.ok ? (await rootQdisc(ns, "ifbq").catch(() => undefined))?.rateKbit ?? 0 : -1;
      };
      const limit = SHAPER_REFRESH_S + 4;
      const took: string[] = [];
      try {
        await within(
          () => Promise.resolve(log()),
          (t) => t.includes("entering idle mode"),
          40,
          "idle",
        );
        const held = await qdisc();
        assert(held === 30000, `held at 60 % of base: ${held}\n${log()}`);

        await must("tc", ["-n", ns, "qdisc", "change", "dev", "ifbq", "root", ...TBF]);
        took.push(`rate changed: ${await within(qdisc, (r) => r === 30000, limit, "reset")} s`);

        await must("tc", ["-n", ns, "qdisc", "del", "dev", "ifbq", "root"]);
        const seen = await within(
          () => Promise.resolve(log()),
          (t) => t.includes("the root qdisc of ifbq was replaced"),
          limit,
          "the deletion logged",
        );
        took.push(`deleted, logged: ${seen} s`);
        await must("tc", ["-n", ns, "qdisc", "add", "dev", "ifbq", "root", ...TBF]);
        took.push(`added again: ${await within(qdisc, (r) => r === 30000, limit, "adopted")} s`);

        await must("ip", ["-n", ns, "link", "del", "ifbq"]);
        await new Promise((r) => setTimeout(r, 2000));
        await addIfb();
        took.push(`IFB re-created: ${await within(qdisc, (r) => r === 30000, limit, "set")} s`);
        console.log(took.join("; "));
        const text = log();
        assert(text.includes("rate changes on ifbq work again"), text);
        // The other rate is named once (docs/operation.md, "Another program changes the rate").
        const other = "the rate on ifbq is 3000 kbit/s, not the 30000 kbit/s this daemon set";
        assert(text.split(other).length === 2, text);
        assert(!text.includes("FATAL"), text);
      } finally {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        await child.status;
        await collecting;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }),
});
