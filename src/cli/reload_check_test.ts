import { assert, assertEquals } from "../util/assert.ts";
import { loadSettings } from "../config/mod.ts";
import type { Shaper } from "../control/ports.ts";
import { reloadProblems } from "./reload_check.ts";
import { type RestartInputs, restartInputs, sameScript } from "./restart_inputs.ts";

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

Deno.test("SIGHUP check: a plugin failing with its script unchanged since the running start does not keep the running one; an edited or new one does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-reload-plugin-" });
  try {
    // Fails check-config's synthetic tick (and every tick at run time): the daemon that started
    // with it runs without it once it is disabled.
    const failing = 'local M = {}\nfunction M.process(r) error("always") end\nreturn M\n';
    await Deno.writeTextFile(`${dir}/failing.lua`, failing);
    await Deno.writeTextFile(
      `${dir}/fine.lua`,
      "local M = {}\nfunction M.process(r) return {} end\nreturn M\n",
    );
    const resolved = (base: string, plugins: string[]) => {
      const text = [
        "config network",
        "\toption upload_interface 'wan'",
        "\toption download_interface 'ifb4wan'",
        "\toption upload_base_kbits '10000'",
        `\toption download_base_kbits '${base}'`,
        "config plugins",
        ...plugins.map((p) => `\tlist plugin_script '${dir}/${p}'`),
        "",
      ].join("\n");
      Deno.writeTextFileSync(`${dir}/sqm-autorate`, text);
      return loadSettings({
        configPath: `${dir}/sqm-autorate`,
        env: () => undefined,
        envNames: [],
        requireDaemon: true,
      });
    };
    const check = async (running: RestartInputs, next: ReturnType<typeof resolved>) => {
      const inputs = await restartInputs(next);
      const tolerated: string[] = [];
      const problems = await reloadProblems(next, {
        shapers: (s) => ({ dl: fine(s.dl_if), ul: fine(s.ul_if) }),
        tolerate: (ref) => sameScript(running, inputs, ref),
        onTolerated: (p) => tolerated.push(p),
      });
      return { problems, tolerated };
    };
    const running = await restartInputs(resolved("50000", ["failing.lua", "fine.lua"]));
    // The owner changes a rate only: the failing plugin, unchanged, no longer traps the edit.
    // Until the thirty-first session: "plugin …: process() failed (error): …failing.lua:2: always".
    const rate = await check(running, resolved("60000", ["failing.lua", "fine.lua"]));
    assertEquals(rate.problems, []);
    assertEquals(rate.tolerated.length, 1);
    assert(rate.tolerated[0].includes("failing.lua:2: always"), rate.tolerated[0]);
    // The owner edits the failing script and it still fails: that edit is refused, as before.
    await Deno.writeTextFile(`${dir}/failing.lua`, failing.replace("always", "still"));
    const edited = await check(running, resolved("60000", ["failing.lua", "fine.lua"]));
    assertEquals(edited.tolerated, []);
    assertEquals(edited.problems.length, 1);
    assert(edited.problems[0].includes("failing.lua:2: still"), edited.problems[0]);
    // A failing plugin the running configuration did not have is refused too.
    await Deno.writeTextFile(`${dir}/failing.lua`, failing);
    const fineOnly = await restartInputs(resolved("50000", ["fine.lua"]));
    const added = await check(fineOnly, resolved("50000", ["fine.lua", "failing.lua"]));
    assertEquals(added.problems.length, 1);
    assertEquals(added.tolerated, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
