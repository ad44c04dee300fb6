/**
 * Real `tc` in a throw-away network namespace: TBF on one veth end, HTB root + class on the
 * other; the appliers change the rates and we read them back with tc.
 */
import { assert, assertEquals, assertRejects } from "../util/assert.ts";
import { createShaper, HtbShaper, ShaperCheckError, TbfShaper } from "./shaper.ts";
import { addVethPair, must, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

Deno.test({
  ...needs("real tc: TBF and HTB rates are changed and read back in a netns", reason),
  fn: () =>
    withNetns("sqma-apply", async (ns) => {
      await addVethPair(ns, "va", "vb");
      await must("tc", [
        "-n",
        ns,
        "qdisc",
        "add",
        "dev",
        "va",
        "root",
        "tbf",
        "rate",
        "10mbit",
        "burst",
        "32kb",
        "latency",
        "50ms",
      ]);
      await must("tc", [
        "-n",
        ns,
        "qdisc",
        "add",
        "dev",
        "vb",
        "root",
        "handle",
        "1:",
        "htb",
        "default",
        "1",
      ]);
      await must("tc", [
        "-n",
        ns,
        "class",
        "add",
        "dev",
        "vb",
        "parent",
        "1:",
        "classid",
        "1:1",
        "htb",
        "rate",
        "20mbit",
        "ceil",
        "30mbit",
      ]);

      const tbf = createShaper("tbf", "va", { netns: ns });
      assert(tbf instanceof TbfShaper);
      await tbf.check();
      await tbf.setRate(6480);
      const q = JSON.parse(await must("tc", ["-n", ns, "-j", "qdisc", "show", "dev", "va"]));
      assertEquals(q[0].kind, "tbf");
      assertEquals(q[0].options.rate, 6480 * 125);
      // tc stores a limit derived from the latency, so the reported latency may round by 1 µs.
      assert(Math.abs(q[0].options.lat - 50000) <= 2, `latency kept: ${q[0].options.lat}`);
      assert(q[0].options.burst >= 3200);
      assertEquals(await tbf.readRate!(), 6480);

      const htb = createShaper("htb", "vb", { netns: ns, htbClassid: "1:1" });
      assert(htb instanceof HtbShaper);
      await htb.check();
      assertEquals(await htb.readRate(), 20000);
      await htb.setRate(65203);
      const cls = await must("tc", ["-n", ns, "class", "show", "dev", "vb", "classid", "1:1"]);
      assert(/ rate 65203Kbit ceil 65203Kbit /.test(cls), cls);
      assertEquals(await htb.readRate(), 65203);

      // A higher configured ceil is kept on request, and ceil is never below the rate.
      const keep = createShaper("htb", "vb", { netns: ns, htbClassid: "1:1", htbKeepCeil: true });
      await must("tc", [
        "-n",
        ns,
        "class",
        "change",
        "dev",
        "vb",
        "classid",
        "1:1",
        "htb",
        "rate",
        "20mbit",
        "ceil",
        "30mbit",
      ]);
      await keep.check();
      await keep.setRate(10000);
      assert(
        / rate 10Mbit ceil 30Mbit /.test(
          await must("tc", ["-n", ns, "class", "show", "dev", "vb", "classid", "1:1"]),
        ),
      );
      await keep.setRate(40000);
      assert(
        / rate 40Mbit ceil 40Mbit /.test(
          await must("tc", ["-n", ns, "class", "show", "dev", "vb", "classid", "1:1"]),
        ),
      );

      // Wrong kinds and missing things are reported as such.
      assertEquals(
        (await assertRejects(
          () => createShaper("cake", "va", { netns: ns }).check(),
          ShaperCheckError,
        )).reason,
        "wrong-kind",
      );
      assertEquals(
        (await assertRejects(
          () => createShaper("htb", "vb", { netns: ns, htbClassid: "1:7" }).check(),
          ShaperCheckError,
        ))
          .reason,
        "missing-class",
      );
      assertEquals(
        (await assertRejects(
          () => createShaper("tbf", "nosuch0", { netns: ns }).check(),
          ShaperCheckError,
        )).reason,
        "missing-interface",
      );
    }),
});
