import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { seededRandom, VirtualClock } from "../util/clock.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { createLuaRatecontroller } from "./lua_ratecontroller.ts";
import { createPluginManager } from "./plugin_manager.ts";
import { recordingLogger, tickReadings } from "./testing.ts";

/** The ```lua blocks of docs/plugins.md, in order. */
async function docExamples(): Promise<string[]> {
  const md = await Deno.readTextFile(new URL("../../docs/plugins.md", import.meta.url));
  return [...md.matchAll(/```lua\n([\s\S]*?)```/g)].map((m) => m[1]);
}

Deno.test("docs/plugins.md: the plugin and ratecontroller examples work as described", async () => {
  const [plugin, controller] = await docExamples();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/round_up.lua`, plugin);
    await Deno.writeTextFile(`${dir}/simple.lua`, controller);
    const settings = settingsWithDefaults({
      ul_if: "wan",
      dl_if: "ifb4wan",
      base_ul_rate: 20000,
      base_dl_rate: 100000,
      plugin_scripts: [`${dir}/round_up.lua`],
      rate_controller: `${dir}/simple.lua`,
    });
    const { logger, lines } = recordingLogger();
    const pm = await createPluginManager({
      settings,
      logger,
      pluginSections: (t) => (t === "round_up" ? { step_kbits: "500" } : undefined),
    });
    assert(pm);
    assert(lines.some((l) => l.text.endsWith("round_up: step 500 kbit/s")));
    const adj = await pm.adjust({
      readings: tickReadings(),
      next_ul_rate: 12001,
      next_dl_rate: 60000,
      ul_max_delta_owd: 15,
      dl_max_delta_owd: 15,
    });
    assertEquals(adj, { next_ul_rate: 12500, by: "round_up" });
    pm.close();

    const c = await createLuaRatecontroller({
      settings,
      clock: new VirtualClock(0),
      random: seededRandom(1),
      logger,
      owd: createOwdState(),
      reselect: { requestReselect: () => {} },
    });
    assertEquals(c.name, "simple");
    const input = (r: Parameters<typeof tickReadings>[0]) => ({
      readings: tickReadings(r),
      ul_max_delta_owd: 15,
      dl_max_delta_owd: 15,
    });
    assertEquals(await c.decide(input({ down_del_stat: 20, tx_load: 0.9 })), {
      next_dl_rate: 30000,
      next_ul_rate: 12000 * 1.05,
    });
    c.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
