/**
 * A SIGHUP's check of a re-read configuration in remote mode, against a real OpenSSH server in a
 * throw-away "router" namespace (ssh_netns_fixture.ts): the router's interfaces and root qdiscs
 * are asked over ssh before the running daemon is touched, and a router that does not answer is
 * refused within the check's budget (docs/operation.md, "A configuration re-read on SIGHUP").
 */
import { assert, assertEquals } from "../util/assert.ts";
import { needs, netnsSkipReason } from "../util/netns_testing.ts";
import { reloadProblems } from "../cli/reload_check.ts";
import type { ResolvedSettings } from "../config/resolve.ts";
import type { Settings } from "../config/types.ts";
import { sshdSkipReason, type SshRouterNetns, withSshRouterNetns } from "./ssh_netns_fixture.ts";

const reason = (await netnsSkipReason()) ?? (await sshdSkipReason());

/** The router's problems (the reflector list and pinger of this host are not this test's). */
async function routerProblems(
  r: SshRouterNetns,
  change: Partial<Settings>,
  timeoutMs?: number,
): Promise<{ problems: string[]; ms: number }> {
  const resolved = {
    settings: { ...r.d.settings, ...change },
    warnings: [],
  } as unknown as ResolvedSettings;
  const started = Date.now();
  const all = await reloadProblems(resolved, { remote: { sshPath: r.sshPath, timeoutMs } });
  return {
    problems: all.filter((p) => /^(download_interface|upload_interface|remote):/.test(p)),
    ms: Date.now() - started,
  };
}

Deno.test({
  ...needs(
    "remote (netns, sshd): a SIGHUP's check asks the router for its interfaces and root qdiscs, " +
      "and refuses while the router does not answer",
    reason,
  ),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSshRouterNetns("sqma-rhup", {}, async (r) => {
      // The configuration in force: both shapers there.
      assertEquals((await routerProblems(r, {})).problems, []);

      const missing = await routerProblems(r, { dl_if: "nosuch" });
      assertEquals(missing.problems, [
        `download_interface: on ${r.d.settings.remote}: interface nosuch does not exist`,
      ]);
      const wrong = await routerProblems(r, { shaper: "cake" });
      assertEquals(wrong.problems.length, 2, wrong.problems.join("\n"));
      assert(/^upload_interface: .*root qdisc of vul is tbf, not cake/.test(wrong.problems[1]));
      const htb = await routerProblems(r, { shaper: "htb" });
      assert(/^download_interface: .*vdl is tbf, not htb/.test(htb.problems[0]), htb.problems[0]);

      // The link cut (network unreachable): refused at once, saying why.
      await r.link("down");
      const down = await routerProblems(r, { dl_if: "nosuch" });
      console.log(`link down: ${down.ms} ms: ${down.problems.join("; ")}`);
      assertEquals(down.problems.length, 1, down.problems.join("\n"));
      assert(/^remote: cannot reach .*unreachable: not restarting while the router is away/.test(
        down.problems[0],
      ));
      await r.link("up");

      // Every frame dropped: refused within the check's budget.
      await r.link("drop");
      try {
        const dropped = await routerProblems(r, {}, 3000);
        console.log(`frames dropped: ${dropped.ms} ms: ${dropped.problems.join("; ")}`);
        assertEquals(dropped.problems.length, 1, dropped.problems.join("\n"));
        assert(
          /^remote: .* gave no answer within 3000 ms: not restarting/.test(dropped.problems[0]),
        );
        assert(dropped.ms < 4500, `the check took ${dropped.ms} ms`);
        // A budget longer than ssh's own 10 s timeout (the default is 15 s): the ssh killed at it
        // is the router away too, not "tc does not run on … install it there".
        const slow = await routerProblems(r, {}, 12_000);
        console.log(`frames dropped, 12 s budget: ${slow.ms} ms: ${slow.problems.join("; ")}`);
        assertEquals(slow.problems.length, 1, slow.problems.join("\n"));
        assert(
          /^remote: cannot reach .*timed out.*: not restarting while the router is away/.test(
            slow.problems[0],
          ),
          slow.problems[0],
        );
      } finally {
        await r.link("pass");
      }
      assertEquals((await routerProblems(r, { ul_if: "vdl" })).problems, []);
    }),
});
