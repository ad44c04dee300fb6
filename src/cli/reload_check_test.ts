import { assertEquals } from "../util/assert.ts";
import { loadSettings } from "../config/mod.ts";
import type { Shaper } from "../control/ports.ts";
import { reloadProblems } from "./reload_check.ts";

/** A shaper whose check passes: only the configuration's own problems are left. */
const fine = (ifname: string): Shaper => ({
  kind: "tbf",
  ifname,
  setRate: () => Promise.resolve(),
  check: () => Promise.resolve(),
});

Deno.test("SIGHUP check: a metrics_listen or broker outside the manifest keeps the running one, in check-config's words", async () => {
  const flags = { ul_if: "wan", dl_if: "ifb4wan", base_ul_rate: "10000", base_dl_rate: "50000" };
  const problems = async (extra: Record<string, string>) =>
    await reloadProblems(
      loadSettings({
        flags: { ...flags, ...extra },
        env: () => undefined,
        envNames: [],
        requireDaemon: true,
      }),
      { shapers: (s) => ({ dl: fine(s.dl_if), ul: fine(s.ul_if) }) },
    );
  assertEquals(await problems({ metrics_listen: "127.0.0.1:9101" }), []);
  assertEquals(await problems({ metrics_listen: "127.0.0.1:1883" }), [
    "metrics_listen: 127.0.0.1:1883 is outside the daemon's permission manifest, which allows " +
    "only 127.0.0.1:9101, 0.0.0.0:9101, [::1]:9101, [::]:9101 for it; use one of those (or " +
    "widen permissions.daemon.net in deno.json and rebuild)",
  ]);
  assertEquals((await problems({ mqtt_url: "mqtt://127.0.0.1:9101" })).length, 1);
});
