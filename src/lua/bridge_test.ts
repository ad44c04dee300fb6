import { assert, assertEquals } from "../util/assert.ts";
import { settingsWithDefaults } from "../config/defaults.ts";
import { LuaOther, LuaSandbox } from "./engine.ts";
import {
  checkNumber,
  decodeControllerResults,
  luaLiteral,
  PLUGIN_EXTRA_FIELDS,
  PLUGIN_READING_FIELDS,
  pluginArgs,
  sectionToLua,
  settingsToLua,
} from "./bridge.ts";
import { tickReadings } from "./testing.ts";

async function evalLua(source: string, probe: string) {
  const sb = await LuaSandbox.create({
    timeLimitMs: 50,
    memoryLimitMb: 16,
    host: { log: () => {}, random: () => 0, wallMs: () => 0, section: () => undefined },
  });
  try {
    const [t] = sb.callRefs(sb.load(source, "=literal"), [], 1);
    return sb.call(sb.load(`local t = ...; ${probe}`, "=probe"), [t], -1);
  } finally {
    sb.close();
  }
}

Deno.test("bridge: literals survive the trip into Lua exactly", async () => {
  // NUL survives into Lua (checked by length); strings coming back stop at NUL (C strings).
  const s = 'quote " backslash \\ newline \n tab \t bell \x07 é';
  const nul = "a\0b";
  const values = [0.1 + 0.2, 2 ** 53 - 1, -0.5, 1e-300, 15];
  const src = `return ${luaLiteral({ s, nul, values, flag: true, list: ["a", "b"] })}`;
  const got = await evalLua(
    src,
    "return t.s, t.values[1], t.values[2], t.values[3], t.values[4], t.values[5], t.flag, " +
      "t.list[2], math.type(t.values[5]), #t.list, #t.nul, #t.s",
  );
  const bytes = new TextEncoder().encode(s).length;
  assertEquals(got, [s, ...values, true, "b", "integer", 2, 3, bytes]);
});

Deno.test("bridge: settings carry upstream names; sections carry libuci meta keys", async () => {
  const settings = settingsWithDefaults({ base_dl_rate: 100000, plugin_scripts: ["a.lua"] });
  const got = await evalLua(
    settingsToLua(settings),
    "return t.base_dl_rate, t.min_dl_rate, t.tick_duration, t.output_statistics, " +
      "t.plugin_scripts[1], t.high_load_level, t.log_level",
  );
  assertEquals(got, [100000, 20000, 0.5, true, "a.lua", 0.8, "INFO"]);
  const section = await evalLua(
    sectionToLua({
      ".name": "cfg0a1b2c",
      ".type": "log_readings",
      ".anonymous": true,
      ".index": 3,
      interval_seconds: "60",
      when: ["a", "b"],
    }),
    'return t.interval_seconds, t.when[2], t[".type"], t[".anonymous"], t[".index"]',
  );
  assertEquals(section, ["60", "b", "log_readings", true, 3]);
});

Deno.test("bridge: plugin arguments are readings, extra, then deltas and samples", () => {
  const args = pluginArgs({
    readings: tickReadings({
      now_s: 12.7,
      samples: [
        { reflector: "192.0.2.9", ul_delta: 1, dl_delta: 2, age_s: 0.25, ul_last: 7, dl_last: 8 },
      ],
    }),
    next_ul_rate: 1,
    next_dl_rate: 2,
    ul_max_delta_owd: 3,
    dl_max_delta_owd: 4,
  });
  const n = PLUGIN_READING_FIELDS.length + PLUGIN_EXTRA_FIELDS.length;
  assertEquals(args[0], 12.7);
  assertEquals(args.slice(n), [
    5,
    0.5,
    1.0,
    1.5,
    2.0,
    4.0,
    5,
    0.4,
    1.2,
    2.5,
    3.1,
    9.8,
    1,
    "192.0.2.9",
    1,
    2,
    0.25,
    7,
    8,
  ]);
});

Deno.test("bridge: only finite numbers pass; messages name script and field", () => {
  assertEquals(checkNumber("s", "f", 5, "rate"), { value: 5 });
  assertEquals(checkNumber("s", "f", 0, "rate"), { value: 0 });
  assertEquals(checkNumber("s", "f", null, "rate"), {});
  assertEquals(checkNumber("s", "f", -1, "rate").warning, "s: f is negative (-1); ignored");
  assertEquals(
    checkNumber("s", "f", -Infinity, "threshold").warning,
    "s: f is minus infinite (-inf, -math.huge); ignored",
  );
  assertEquals(
    checkNumber("s", "f", 0, "threshold").warning,
    "s: f must be > 0 ms (got 0); ignored",
  );
  assertEquals(
    checkNumber("s", "f", new LuaOther("function"), "rate").warning,
    "s: f is a function, expected a number; ignored",
  );
  assertEquals(
    checkNumber("s", "f", true, "rate").warning,
    "s: f is a boolean, expected a number; ignored",
  );
  const d = decodeControllerResults("x.lua", [true, 1000, null, "<string>"]);
  assertEquals(d.next_dl_rate, 1000);
  assertEquals(d.next_ul_rate, undefined);
  assertEquals(d.reselect, false);
  assertEquals(d.warnings, [
    "x.lua: calculate() returned no next_ul_rate",
    "x.lua: calculate() reselect is a string, expected a boolean",
  ]);
  assert(decodeControllerResults("x", [true, 1, 2, true]).reselect);
});
