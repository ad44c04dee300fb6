/**
 * check-config's look at the local shapers (src/apply/shaper_check.ts) with the real `tc` in a
 * throw-away network namespace: a missing interface and a wrong root qdisc are warned about with
 * what `run` would do; usable ones give no warning.
 */
import { assertEquals } from "../util/assert.ts";
import { denoCommandRunner } from "../util/command.ts";
import { addTbfVethPair, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";
import { localShaperWarnings } from "./shaper_check.ts";
import type { CommandRunner } from "../util/command.ts";

const reason = await netnsSkipReason();

/** The real runner with `tc` run inside `ns`. */
function inNetns(ns: string): CommandRunner {
  const real = denoCommandRunner();
  return (binary, args, run) => real("ip", ["netns", "exec", ns, binary, ...args], run);
}

Deno.test({
  ...needs("check-config's shaper check: missing interface, wrong qdisc, usable pair", reason),
  fn: () =>
    withNetns("sqma-shchk", async (ns) => {
      await addTbfVethPair(ns, "vdl", "vul");
      const wait = { attempts: 12, retryDelayS: 5, runner: inNetns(ns) };
      const settings = { shaper: "tbf" as const, dl_if: "vdl", ul_if: "vul", htb_classid: "1:1" };
      assertEquals(await localShaperWarnings(settings, wait), []);
      assertEquals(await localShaperWarnings({ ...settings, ul_if: "nosuch0" }, wait), [
        'ul_if "nosuch0": interface nosuch0 does not exist here now; run waits for it ' +
        "(12 attempts, 5 s apart), then exits 69",
      ]);
      assertEquals(await localShaperWarnings({ ...settings, shaper: "cake" }, wait), [
        'dl_if "vdl": the root qdisc of vdl is tbf, not cake (setting shaper=cake); run would ' +
        "exit 69 at once",
        'ul_if "vul": the root qdisc of vul is tbf, not cake (setting shaper=cake); run would ' +
        "exit 69 at once",
      ]);
    }),
});
