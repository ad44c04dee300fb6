/**
 * Every input field of the bridge's one table (INPUT_FIELDS, CONTROLLER_CONSTANTS) reaches Lua
 * under its name with its own value: each host value is distinct, so two swapped fields fail.
 */
import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { createOwdState } from "../baseline/owd_state.ts";
import { VirtualClock } from "../util/clock.ts";
import type { TickReadings } from "../control/ratecontroller_port.ts";
import {
  type BridgeInput,
  CONTROLLER_CONSTANTS,
  CONTROLLER_FIELDS,
  INPUT_FIELDS,
  PLUGIN_EXTRA_FIELDS,
  PLUGIN_READING_FIELDS,
} from "./bridge.ts";
import { createLuaRatecontroller } from "./lua_ratecontroller.ts";
import { createPluginManager } from "./plugin_manager.ts";
import { recordingLogger } from "./testing.ts";

const probe = new URL("./testdata/fields_probe.lua", import.meta.url).pathname;

// Distinct values everywhere (fractions where upstream has integers, to catch rounding).
const readings: TickReadings = {
  now_s: 101.25,
  dt: 0.503,
  rx_load: 0.61,
  tx_load: 0.42,
  down_del_stat: 2.75,
  up_del_stat: 1.375,
  down_utilisation: 30001.5,
  up_utilisation: 4802.25,
  cur_dl_rate: 60007,
  cur_ul_rate: 12011,
  dl_bytes: 1_875_013,
  ul_bytes: 300_017,
  dl_deltas: [0.4, 1.2, 2.75, 3.1, 9.8],
  ul_deltas: [-0.5, 1.0, 1.375, 2.0, 4.0],
  samples: [
    { reflector: "192.0.2.1", ul_delta: 4.0, dl_delta: 0.4, age_s: 0.125 },
    { reflector: "2001:db8::2", ul_delta: -0.5, dl_delta: 9.8, age_s: 0.5 },
  ],
};
const input: BridgeInput = {
  readings,
  ul_max_delta_owd: 14.5,
  dl_max_delta_owd: 16.25,
  next_ul_rate: 12345.5,
  next_dl_rate: 65203.25,
};
const settings = settingsWithDefaults({
  ul_if: "wan",
  dl_if: "ifb4wan",
  base_ul_rate: 20011,
  base_dl_rate: 100003,
  max_ul_rate: 30001,
  ul_min_percent: 21,
  dl_min_percent: 23,
  high_load_level: 0.85,
  histsize: 97,
  plugin_scripts: [probe],
  // generous: a loaded CI machine must not turn a cold first call into a timeout here
  lua_time_limit_ms: 2000,
});

/** The host value a field's name stands for, looked up by name (not through the table). */
function hostValue(key: string): number {
  const r = readings as unknown as Record<string, unknown>;
  const v = key in r ? r[key] : (input as unknown as Record<string, unknown>)[key];
  assert(typeof v === "number", `no host value named ${key}`);
  return v;
}

function logged(lines: { text: string }[], prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines) {
    const m = l.text.match(new RegExp(`${prefix.replace(".", "\\.")}([a-z_]+)=(.*)$`));
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

function assertNumber(got: string | undefined, want: number, what: string): void {
  assert(got !== undefined, `${what} missing in Lua`);
  assertEquals(Number(got.split(" ")[0]), want, what);
}

Deno.test("fields: the host values are pairwise distinct (so a swap is visible)", () => {
  const values = INPUT_FIELDS.map((f) => hostValue(f.key));
  assertEquals(new Set(values).size, values.length);
  // The ceilings repeat a max by definition; every other constant is distinct.
  const consts = CONTROLLER_CONSTANTS.filter((c) => !c.key.endsWith("_ceiling"))
    .map((c) => c.get(settings));
  assertEquals(new Set(consts).size, consts.length, consts.join(","));
});

Deno.test("fields: plugins get upstream's readings only, the additions in extra, by value", async () => {
  const { logger, lines } = recordingLogger();
  const m = await createPluginManager({ settings, logger, clock: new VirtualClock(0) });
  assert(m);
  await m.adjust({
    readings,
    next_ul_rate: input.next_ul_rate!,
    next_dl_rate: input.next_dl_rate!,
    ul_max_delta_owd: input.ul_max_delta_owd,
    dl_max_delta_owd: input.dl_max_delta_owd,
  });
  m.close();
  const r = logged(lines, "readings.");
  const x = logged(lines, "extra.");
  // readings: exactly upstream's eleven keys, all numbers
  assertEquals([...r.keys()].sort(), PLUGIN_READING_FIELDS.map((f) => f.key).sort());
  assertEquals(r.size, 11);
  for (const f of PLUGIN_READING_FIELDS) assertNumber(r.get(f.key), hostValue(f.key), f.key);
  for (const f of PLUGIN_EXTRA_FIELDS) {
    assertNumber(x.get(f.key), hostValue(f.key), `extra.${f.key}`);
  }
  assertEquals(x.get("ul_deltas"), "[-0.5,1,1.375,2,4]");
  assertEquals(
    x.get("dl_deltas"),
    "[0.40000000000000002,1.2,2.75,3.1000000000000001,9.8000000000000007]",
  );
  assertEquals(
    x.get("samples"),
    "[192.0.2.1/4/0.40000000000000002/0.125,2001:db8::2/-0.5/9.8000000000000007/0.5]",
  );
  // now_s keeps its fraction (upstream's clock gives fractional seconds)
  assertEquals(r.get("now_s"), "101.25 float");
});

Deno.test("fields: calculate(data) gets every controller field and constant by value", async () => {
  const { logger, lines } = recordingLogger();
  const c = await createLuaRatecontroller({
    settings: { ...settings, rate_controller: probe },
    clock: new VirtualClock(0),
    random: () => 0.5,
    logger,
    owd: createOwdState(),
    reselect: { requestReselect: () => {} },
  });
  await c.decide(input);
  c.close();
  const d = logged(lines, "data.");
  for (const f of CONTROLLER_FIELDS) assertNumber(d.get(f.key), hostValue(f.key), `data.${f.key}`);
  assert(!d.has("next_ul_rate") && !d.has("next_dl_rate"), "no proposal in data");
  const byName = settings as unknown as Record<string, number>;
  for (const k of CONTROLLER_CONSTANTS) {
    const want = k.key in byName ? byName[k.key] : k.get(settings);
    assertNumber(d.get(k.key), want, `data.${k.key}`);
  }
  assertNumber(d.get("ul_rate_ceiling"), 30001, "ul_rate_ceiling = max_ul_rate");
  assertNumber(d.get("dl_rate_ceiling"), 10 * 100003, "dl_rate_ceiling without a max: 10 x base");
  assertEquals(
    d.get("samples"),
    "[192.0.2.1/4/0.40000000000000002/0.125,2001:db8::2/-0.5/9.8000000000000007/0.5]",
  );
});

/** Rows of the markdown table after `<!-- fields:NAME -->`: key cell → unit cell. */
async function docTable(name: string): Promise<Map<string, string>> {
  const md = await Deno.readTextFile(new URL("../../docs/plugins.md", import.meta.url));
  const at = md.indexOf(`<!-- fields:${name} -->`);
  assert(at >= 0, `docs/plugins.md has no fields:${name} table`);
  const rows = md.slice(at).split("\n\n")[1].split("\n").slice(2);
  const out = new Map<string, string>();
  for (const row of rows) {
    const [keys, unit] = row.split("|").slice(1, 3).map((c) => c.trim());
    for (const m of keys.matchAll(/`([a-z_]+)`/g)) out.set(m[1], unit);
  }
  return out;
}

Deno.test("fields: docs/plugins.md documents every field with the table's unit", async () => {
  const cases: [string, readonly { key: string; unit: string }[]][] = [
    ["plugin-readings", PLUGIN_READING_FIELDS],
    ["plugin-extra", PLUGIN_EXTRA_FIELDS],
    ["controller", [...CONTROLLER_FIELDS, ...CONTROLLER_CONSTANTS]],
  ];
  for (const [table, fields] of cases) {
    const doc = await docTable(table);
    for (const f of fields) assertEquals(doc.get(f.key), f.unit, `${table}: ${f.key}`);
  }
});

Deno.test("fields: docs/plugins.md documents no field the bridge does not give", async () => {
  // The arrays and `random` are built in Lua (bridge.ts), not listed in INPUT_FIELDS.
  const arrays = ["ul_deltas", "dl_deltas", "samples"];
  const cases: [string, string[]][] = [
    ["plugin-readings", PLUGIN_READING_FIELDS.map((f) => f.key)],
    ["plugin-extra", [...PLUGIN_EXTRA_FIELDS.map((f) => f.key), ...arrays]],
    ["controller", [
      ...CONTROLLER_FIELDS.map((f) => f.key),
      ...CONTROLLER_CONSTANTS.map((f) => f.key),
      ...arrays,
      "random",
    ]],
  ];
  for (const [table, keys] of cases) {
    const extra = [...(await docTable(table)).keys()].filter((k) => !keys.includes(k));
    assertEquals(extra, [], `${table}: documented but not given`);
  }
});
