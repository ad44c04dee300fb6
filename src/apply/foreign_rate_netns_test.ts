/**
 * Real `tc` in a throw-away network namespace: someone changes the rate of the daemon's TBF or HTB
 * class behind its back (`tc qdisc change`, `tc class change`, as a second sqm-autorate or SQM
 * scripts would). The refresh's set of the unchanged rate must log it once (docs/operation.md,
 * "Another program changes the rate"), set ours again, log the end, and say nothing of a root
 * replaced by a new TBF (adopted).
 */
import { assert, assertEquals } from "../util/assert.ts";
import { createShaperPair } from "./shaper.ts";
import { watchForeignRates } from "./foreign_rate.ts";
import type { Shaper } from "../control/ports.ts";
import { recordingLogger } from "../log/recording_testing.ts";
import { must, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

/**
 * veth va/vb in `ns`, each with an HTB root 1:, and va's class 1:1 at 50 Mbit/s: `tc` in `ns`, and
 * `klass(verb, kbit)`, which adds or changes that class (rate = ceil).
 */
async function htbVethPair(ns: string): Promise<{
  tc: (...args: string[]) => Promise<string>;
  klass: (verb: string, kbit: number) => Promise<string>;
}> {
  const tc = (...args: string[]) => must("tc", ["-n", ns, ...args]);
  const klass = (verb: string, kbit: number) =>
    tc("class", verb, "dev", "va", "parent", "1:", "classid", "1:1", "htb", ...[
      "rate",
      `${kbit}kbit`,
      "ceil",
      `${kbit}kbit`,
    ]);
  await must("ip", ["-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb"]);
  for (const dev of ["va", "vb"]) {
    await tc("qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "1");
  }
  await klass("add", 50000);
  return { tc, klass };
}

/**
 * The watch's episode on `dl` (va, the daemon's rate 30 Mbit/s): ours in force is quiet; `behind`
 * (48 Mbit/s set behind the daemon's back) is one WARN at the refresh, which sets ours again
 * (`rate()` then reads `ours`); the same again is DEBUG, and ours found again its end, INFO.
 */
async function foreignEpisode(dl: Shaper, o: {
  lines: string[];
  behind: () => Promise<unknown>;
  rate: () => Promise<unknown>;
  ours: unknown;
}): Promise<void> {
  const { lines } = o;
  await dl.check();
  await dl.setRate(30000);
  await dl.setRate(30000); // the refresh: ours in force
  assertEquals(lines, []);

  await o.behind(); // behind the daemon's back
  await dl.setRate(30000);
  assertEquals(await o.rate(), o.ours); // ours set again
  assertEquals(lines.length, 1, lines.join("\n"));
  assert(
    lines[0].startsWith("WARN the rate on va is 48000 kbit/s, not the 30000 kbit/s"),
    lines[0],
  );
  await o.behind();
  await dl.setRate(30000);
  await dl.setRate(30000);
  assertEquals(lines.slice(1).map((l) => l.split(" ").slice(0, 7).join(" ")), [
    "DEBUG the rate on va is 48000",
    "INFO the rate on va is the",
  ]);
}

Deno.test({
  ...needs("real tc: a rate changed behind the daemon's back is logged once, then its end", reason),
  fn: () =>
    withNetns("sqma-foreign", async (ns) => {
      const tc = (...args: string[]) => must("tc", ["-n", ns, ...args]);
      const rate = async () =>
        JSON.parse(await tc("-j", "qdisc", "show", "dev", "va")).find((q: { root?: boolean }) =>
          q.root
        ).options.rate * 8 / 1000;
      const tbf = (verb: string, handle: string, kbit: number) =>
        tc("qdisc", verb, "dev", "va", "root", "handle", handle, "tbf", "rate", `${kbit}kbit`, ...[
          "burst",
          "10kb",
          "latency",
          "20ms",
        ]);
      await must("ip", ["-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb"]);
      await tbf("add", "5:", 50000);
      const { logger, lines } = recordingLogger();
      const pair = createShaperPair({
        shaper: "tbf",
        dl_if: "va",
        ul_if: "vb",
        htb_classid: "1:1",
      }, { netns: ns });
      const dl = watchForeignRates(pair, { logger }).dl;
      try {
        await foreignEpisode(dl, {
          lines,
          behind: () => tbf("change", "5:", 48000),
          rate,
          ours: 30000,
        });

        // A new TBF root (new handle) at another rate: adopted by the change, not logged here.
        lines.length = 0;
        await tbf("replace", "7:", 48000);
        await dl.setRate(30000);
        await dl.setRate(30000);
        assertEquals(await rate(), 30000);
        assertEquals(lines, []);
      } finally {
        await pair.close?.();
      }
    }),
});

Deno.test({
  ...needs(
    "real tc: an HTB class rate changed behind the daemon's back is logged once, then its end",
    reason,
  ),
  fn: () =>
    withNetns("sqma-foreignh", async (ns) => {
      const { tc, klass } = await htbVethPair(ns);
      const rate = async () => {
        const line = (await tc("class", "show", "dev", "va", "classid", "1:1")).trim();
        return /^class htb 1:1 .* rate (\S+)/.exec(line)?.[1];
      };
      await tc(
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
        "10mbit",
      );
      const { logger, lines } = recordingLogger();
      const pair = createShaperPair({
        shaper: "htb",
        dl_if: "va",
        ul_if: "vb",
        htb_classid: "1:1",
      }, { netns: ns });
      const dl = watchForeignRates(pair, { logger }).dl;
      try {
        await foreignEpisode(dl, {
          lines,
          behind: () => klass("change", 48000),
          rate,
          ours: "30Mbit",
        });

        // A rate tc prints rounded (12.3Mbit for 12345 kbit/s) is still ours.
        lines.length = 0;
        await dl.setRate(12345);
        await dl.setRate(12345);
        assertEquals(lines, []);
      } finally {
        await pair.close?.();
      }
    }),
});

Deno.test({
  ...needs(
    "real tc: an HTB class deleted just before a refresh (no answer to the look) costs no wait and " +
      "does not end the watch",
    reason,
  ),
  fn: () =>
    withNetns("sqma-foreignd", async (ns) => {
      const { tc, klass } = await htbVethPair(ns);
      const { logger, lines } = recordingLogger();
      const pair = createShaperPair({
        shaper: "htb",
        dl_if: "va",
        ul_if: "vb",
        htb_classid: "1:1",
      }, { netns: ns, logger });
      const dl = watchForeignRates(pair, { logger }).dl;
      try {
        await dl.check();
        await dl.setRate(30000);
        await dl.setRate(30000);
        assertEquals(lines, []);

        // Deleted under the same root: the look's `class show` prints nothing, the change fails,
        // at once: the root's answer after it says the class printed nothing (the wait for its
        // line was 2 s, and the session was replaced for it).
        await tc("class", "del", "dev", "va", "classid", "1:1");
        const t0 = performance.now();
        const failed = await dl.setRate(30000).then(() => false, () => true);
        const tookMs = performance.now() - t0;
        assert(failed, "the change of a deleted class fails");
        assert(tookMs < 1000, `the look and the change took ${Math.round(tookMs)} ms`);
        assertEquals(lines.filter((l) => l.includes("printed no answer to a query")), []);

        // Back (SQM scripts restarted): the watch works again, through a session.
        await klass("add", 50000);
        await dl.setRate(30000);
        await dl.setRate(30000);
        lines.length = 0;
        await klass("change", 48000);
        await dl.setRate(30000);
        assertEquals(lines.length, 1, lines.join("\n"));
        assert(
          lines[0].startsWith("WARN the rate on va is 48000 kbit/s, not the 30000 kbit/s"),
          lines[0],
        );
      } finally {
        await pair.close?.();
      }
    }),
});
