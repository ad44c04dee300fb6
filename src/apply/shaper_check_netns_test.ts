/**
 * check-config's look at the local shapers (src/apply/shaper_check.ts) with the real `tc` in a
 * throw-away network namespace: a missing interface and a wrong root qdisc are warned about with
 * what `run` would do; usable ones give no warning; tc that may not change them (no
 * `CAP_NET_ADMIN`) is told by a change the kernel refuses either way, and nothing is changed.
 */
import { assertEquals } from "../util/assert.ts";
import { denoCommandRunner } from "../util/command.ts";
import {
  addTbfVethPair,
  must,
  needs,
  netnsSkipReason,
  sh,
  withNetns,
} from "../util/netns_testing.ts";
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
      // The devices with a root qdisc of the configured kind are named (OpenWrt's "wan" is a
      // network, its device eth1 or pppoe-wan), or that there is none.
      assertEquals(await localShaperWarnings({ ...settings, ul_if: "nosuch0" }, wait), [
        'ul_if "nosuch0": interface nosuch0 does not exist here now; run waits for it ' +
        "(12 attempts, 5 s apart), then exits 69; interfaces here with a root tbf qdisc: vdl, vul",
      ]);
      assertEquals(
        await localShaperWarnings({ ...settings, shaper: "htb", dl_if: "nosuch1" }, wait),
        [
          'dl_if "nosuch1": interface nosuch1 does not exist here now; run waits for it ' +
          "(12 attempts, 5 s apart), then exits 69; no interface here has a root htb qdisc " +
          "(SQM not set up yet?)",
          'ul_if "vul": the root qdisc of vul is tbf, not htb (setting shaper=htb; shaper=tbf ' +
          "retunes it); run would exit 69 at once",
        ],
      );
      assertEquals(await localShaperWarnings({ ...settings, shaper: "cake" }, wait), [
        'dl_if "vdl": the root qdisc of vdl is tbf, not cake (setting shaper=cake; shaper=tbf ' +
        "retunes it); run would exit 69 at once",
        'ul_if "vul": the root qdisc of vul is tbf, not cake (setting shaper=cake; shaper=tbf ' +
        "retunes it); run would exit 69 at once",
      ]);
    }),
});

Deno.test({
  ...needs("check-config's shaper check: an IFB as the upload interface looks swapped", reason),
  fn: () =>
    withNetns("sqma-shswp", async (ns) => {
      // sqm-scripts' layout: the WAN device and the IFB its ingress is redirected to.
      await addTbfVethPair(ns, "wan", "lan");
      await must("ip", ["-n", ns, "link", "add", "ifb4wan", "type", "ifb"]);
      await must("ip", ["-n", ns, "link", "set", "ifb4wan", "up"]);
      await must("tc", [
        ...["-n", ns, "qdisc", "add", "dev", "ifb4wan", "root"],
        ...["tbf", "rate", "1mbit", "burst", "10kb", "latency", "20ms"],
      ]);
      const wait = { attempts: 12, retryDelayS: 5, runner: inNetns(ns) };
      const settings = {
        shaper: "tbf" as const,
        dl_if: "ifb4wan",
        ul_if: "wan",
        htb_classid: "1:1",
      };
      assertEquals(await localShaperWarnings(settings, wait), []);
      assertEquals(
        await localShaperWarnings({ ...settings, dl_if: "wan", ul_if: "ifb4wan" }, wait),
        [
          'ul_if "ifb4wan" is an IFB and dl_if "wan" is not: an IFB carries what arrives (the ' +
          "download), so upload_interface and download_interface look swapped; run would shape the " +
          "download at the upload rates",
        ],
      );
      // Two IFBs, or two devices that are not, say nothing.
      assertEquals(
        await localShaperWarnings({ ...settings, dl_if: "lan", ul_if: "wan" }, wait),
        [],
      );
    }),
});

/** Why tc cannot be run without CAP_NET_ADMIN here, else undefined. */
async function setprivReason(): Promise<string | undefined> {
  const netns = await netnsSkipReason();
  if (netns !== undefined) return netns;
  return (await sh("setpriv", ["--version"])).ok ? undefined : "no setpriv";
}

Deno.test({
  ...needs(
    "check-config's shaper check: tc without CAP_NET_ADMIN is warned about; nothing is changed",
    await setprivReason(),
  ),
  fn: () =>
    withNetns("sqma-shcap", async (ns) => {
      await addTbfVethPair(ns, "vdl", "vul");
      // The shipped unit's capabilities minus the one tc needs to change qdiscs (ops30, M9).
      const real = denoCommandRunner();
      const noNetAdmin: CommandRunner = (binary, args, run) =>
        real("ip", [
          ...["netns", "exec", ns, "setpriv", "--bounding-set=-net_admin"],
          ...["--inh-caps=-net_admin", binary, ...args],
        ], run);
      const settings = { shaper: "tbf" as const, dl_if: "vdl", ul_if: "vul", htb_classid: "1:1" };
      const wait = { attempts: 12, retryDelayS: 5 };
      const shown = () => must("tc", ["-n", ns, "-d", "qdisc", "show"]);
      const before = await shown();
      assertEquals(await localShaperWarnings(settings, { ...wait, runner: noNetAdmin }), [
        "tc may not change the shaper on vdl and vul (RTNETLINK answers: Operation not " +
        "permitted): run sqm-autorate as root or with CAP_NET_ADMIN where tc runs " +
        '(docs/install.md, "What the binary needs on the machine"); run would exit 69 at once',
      ]);
      // With the capability the kernel refuses the probe's handle of 0: no warning, no change.
      assertEquals(await localShaperWarnings(settings, { ...wait, runner: inNetns(ns) }), []);
      assertEquals(await shown(), before);
    }),
});
