/**
 * Real `tc` in a throw-away network namespace: an administrator replaces the root qdisc while the
 * shaper runs. The change must not re-create ours, must say why it fails, and must resume once a
 * root qdisc of the configured kind is back.
 */
import { assert, assertEquals, assertRejects } from "../util/assert.ts";
import { HtbShaper, ShaperCheckError, TbfShaper } from "./shaper.ts";
import { must, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

Deno.test({
  ...needs(
    "real tc: a root qdisc replaced by another kind is left alone until the configured kind is back",
    reason,
  ),
  fn: () =>
    withNetns("sqma-root", async (ns) => {
      const tc = (...args: string[]) => must("tc", ["-n", ns, ...args]);
      const root = async (dev: string) =>
        JSON.parse(await tc("-j", "qdisc", "show", "dev", dev)).find((q: { root?: boolean }) =>
          q.root
        );
      await must("ip", ["-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb"]);
      await tc(
        "qdisc",
        "add",
        "dev",
        "va",
        "root",
        "tbf",
        "rate",
        "1mbit",
        "burst",
        "10kb",
        "latency",
        "20ms",
      );
      const tbf = new TbfShaper("va", { netns: ns });
      await tbf.check();
      await tbf.setRate(2000);
      assertEquals((await root("va")).options.rate * 8 / 1000, 2000);

      // The administrator puts an HTB root in place: our change fails and leaves it there.
      await tc("qdisc", "replace", "dev", "va", "root", "handle", "1:", "htb", "default", "1");
      const e = await assertRejects(() => tbf.setRate(3000), ShaperCheckError);
      assertEquals(e.reason, "wrong-kind");
      assert(e.message.includes("replaced by htb"), e.message);
      assertEquals((await root("va")).kind, "htb");

      // A TBF root is back (a new one, new handle): adopted, with its latency and larger burst.
      await tc(
        "qdisc",
        "replace",
        "dev",
        "va",
        "root",
        "handle",
        "7:",
        "tbf",
        "rate",
        "1mbit",
        "burst",
        "40kb",
        "latency",
        "30ms",
      );
      await tbf.setRate(4000);
      const back = await root("va");
      assertEquals([back.kind, back.handle, back.options.rate * 8 / 1000], ["tbf", "7:", 4000]);
      assert(back.options.burst >= 40960, `burst ${back.options.burst}`);
      assert(Math.abs(back.options.lat - 30000) < 100, `latency ${back.options.lat}`);

      // HTB: the class is gone with its root; the failure names the new kind.
      await must("ip", ["-n", ns, "link", "add", "vc", "type", "veth", "peer", "name", "vd"]);
      await tc("qdisc", "add", "dev", "vc", "root", "handle", "1:", "htb", "default", "1");
      await tc(
        "class",
        "add",
        "dev",
        "vc",
        "parent",
        "1:",
        "classid",
        "1:1",
        "htb",
        "rate",
        "1mbit",
      );
      const htb = new HtbShaper("vc", { netns: ns });
      await htb.check();
      await htb.setRate(2000);
      await tc(
        "qdisc",
        "replace",
        "dev",
        "vc",
        "root",
        "handle",
        "2:",
        "tbf",
        "rate",
        "1mbit",
        "burst",
        "10kb",
        "latency",
        "20ms",
      );
      const h = await assertRejects(() => htb.setRate(3000), ShaperCheckError);
      assert(h.message.includes("replaced by tbf"), h.message);
      assertEquals((await root("vc")).kind, "tbf");
    }),
});
