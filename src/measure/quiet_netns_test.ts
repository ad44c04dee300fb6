/**
 * Real fping in a throw-away network namespace where no reflector answers (routed out of a veth
 * nobody listens on): the measurement pipeline must not respawn the pinger every reselection.
 */
import { assert } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createMeasurement } from "./mod.ts";
import { denoSpawner, type Spawner } from "./supervisor.ts";
import { addSilentRoute, needs, netnsSkipReason, withNetns } from "../util/netns_testing.ts";

const reason = await netnsSkipReason();

Deno.test({
  ...needs(
    "real fping, no reflector answers: reselection backs off, fping is not respawned every cycle",
    reason,
  ),
  fn: () =>
    withNetns("sqma-quiet", async (ns) => {
      await addSilentRoute(ns, "10.213.9.0/24");
      const settings = settingsWithDefaults({ pinger: "fping", tick_interval: 0.2 });
      const spawns: number[] = [];
      const t0 = performance.now();
      const spawn: Spawner = (cmd, args) => {
        spawns.push(Math.round(performance.now() - t0));
        return denoSpawner(cmd, args);
      };
      const pool = Array.from({ length: 20 }, (_, i) => `10.213.9.${i + 1}`);
      const m = createMeasurement(settings, {
        pool,
        initialPeers: pool.slice(0, 5),
        commandPrefix: ["ip", "netns", "exec", ns],
        spawn,
      });
      await m.start();
      // The control loop asks for a reselection every tick while too few reflectors are fresh.
      const asking = setInterval(() => m.reselect.requestReselect("test: nothing fresh"), 200);
      try {
        await new Promise((r) => setTimeout(r, 8000));
      } finally {
        clearInterval(asking);
        await m.stop();
      }
      // Without the back-off: a cycle every ~1.3 s, each restarting fping twice (≈ 13 spawns).
      assert(spawns.length <= 6, `fping spawned ${spawns.length} times at ${spawns.join(" ")} ms`);
      assert(m.selector.quietCycles >= 1, "no quiet cycle seen");
    }),
});
