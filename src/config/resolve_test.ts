import { assert, assertEquals, assertThrows } from "../util/assert.ts";
import { ConfigError, describeSource, resolveSettings, type SettingsInput } from "./resolve.ts";
import { parseUci } from "./uci.ts";

const REQUIRED_FLAGS = {
  ul_if: "wan",
  dl_if: "ifb4wan",
  base_ul_rate: "10000",
  base_dl_rate: "50000",
} as const;

function envOf(vars: Record<string, string>): (name: string) => string | undefined {
  return (name) => vars[name];
}

Deno.test("resolve: precedence flag > env > UCI > default, with sources", () => {
  const uci = parseUci(
    [
      "config network",
      "  option upload_interface 'uci-ul'",
      "  option download_interface 'uci-dl'",
      "  option upload_base_kbits '1000'",
      "  option download_base_kbits '2000'",
      "config advanced_settings",
      "  option upload_delay_ms '11'",
      "  option download_delay_ms '12'",
      "  option speed_hist_size '50'",
    ].join("\n"),
    "/etc/config/sqm-autorate",
  );
  const input: SettingsInput = {
    flags: { ul_if: "flag-ul" },
    env: envOf({
      SQMA_UPLOAD_INTERFACE: "env-ul",
      SQMA_DOWNLOAD_INTERFACE: "env-dl",
      SQMA_UPLOAD_DELAY_MS: "9",
    }),
    uci,
  };
  const r = resolveSettings(input, { requireDaemon: true });
  // flag beats env and UCI
  assertEquals(r.settings.ul_if, "flag-ul");
  assertEquals(describeSource(r.sources.ul_if), "flag --upload-interface");
  // env beats UCI
  assertEquals(r.settings.dl_if, "env-dl");
  assertEquals(describeSource(r.sources.dl_if), "env SQMA_DOWNLOAD_INTERFACE");
  assertEquals(r.settings.ul_max_delta_owd, 9);
  // UCI beats default, with file:line
  assertEquals(r.settings.dl_max_delta_owd, 12);
  assertEquals(
    describeSource(r.sources.dl_max_delta_owd),
    "/etc/config/sqm-autorate:8 (@advanced_settings[0].download_delay_ms)",
  );
  assertEquals(r.settings.histsize, 50);
  // default
  assertEquals(r.settings.high_load_level, 0.8);
  assertEquals(describeSource(r.sources.high_load_level), "default");
  // derived minimum rates (upstream: floor(base × pct / 100))
  assertEquals(r.settings.min_ul_rate, 200);
  assertEquals(r.settings.min_dl_rate, 400);
});

Deno.test("resolve: upstream floors integers and accepts Lua's alternative env name", () => {
  const r = resolveSettings({
    flags: { ...REQUIRED_FLAGS, base_dl_rate: "50000.9" },
    env: envOf({ SQMA_HIGH_LEVEL_LOAD: "0.9" }),
  });
  assertEquals(r.settings.base_dl_rate, 50000);
  assertEquals(r.settings.high_load_level, 0.9);
  assertEquals(describeSource(r.sources.high_load_level), "env SQMA_HIGH_LEVEL_LOAD");
});

Deno.test("resolve: upstream-clamped settings clamp with a warning instead of failing", () => {
  const r = resolveSettings({
    flags: { ...REQUIRED_FLAGS, ul_min_percent: "95", high_load_level: "0.5" },
  });
  assertEquals(r.settings.ul_min_percent, 80);
  assertEquals(r.settings.high_load_level, 0.67);
  assertEquals(r.warnings.length, 2);
  assert(r.warnings[0].startsWith("ul_min_percent (flag --upload-min-percent)"), r.warnings[0]);
});

Deno.test("resolve: booleans accept upstream's words; suppress_statistics from UCI 'yes'", () => {
  const uci = parseUci("config output\n option suppress_statistics 'yes'", "f");
  assertEquals(resolveSettings({ uci }).settings.suppress_statistics, true);
  assertEquals(
    resolveSettings({ uci, env: envOf({ SQMA_SUPPRESS_STATISTICS: "0" }) }).settings
      .suppress_statistics,
    false,
  );
  assertEquals(
    resolveSettings({ flags: { suppress_statistics: true } }).settings.suppress_statistics,
    true,
  );
});

Deno.test("resolve: plugin_scripts lists from each source", () => {
  const uci = parseUci(
    "config plugins\n list plugin_script '/a.lua'\n list plugin_script '/b.lua'",
    "f",
  );
  assertEquals(resolveSettings({ uci }).settings.plugin_scripts, ["/a.lua", "/b.lua"]);
  const single = parseUci("config plugins\n option plugin_script '/only.lua'", "f");
  assertEquals(resolveSettings({ uci: single }).settings.plugin_scripts, ["/only.lua"]);
  assertEquals(
    resolveSettings({ uci, env: envOf({ SQMA_PLUGIN_SCRIPTS: "/x.lua, /y.lua,," }) }).settings
      .plugin_scripts,
    ["/x.lua", "/y.lua"],
  );
  assertEquals(
    resolveSettings({ uci, flags: { plugin_scripts: ["/f1.lua", "/f2.lua"] } }).settings
      .plugin_scripts,
    ["/f1.lua", "/f2.lua"],
  );
  assertEquals(resolveSettings({}).settings.plugin_scripts, []);
});

Deno.test("resolve: every problem is reported at once, naming setting, source and value", () => {
  const e = assertThrows(
    () =>
      resolveSettings({
        flags: { histsize: "lots" },
        env: envOf({ SQMA_DOWNLOAD_DELAY_MS: "-3" }),
      }, { requireDaemon: true }),
    ConfigError,
  );
  const settings = e.problems.map((p) => p.setting).sort();
  assertEquals(settings, [
    "base_dl_rate",
    "base_ul_rate",
    "dl_if",
    "dl_max_delta_owd",
    "histsize",
    "ul_if",
  ]);
  assert(
    e.message.includes('histsize (flag --speed-hist-size): "lots" is not an integer'),
    e.message,
  );
  assert(
    e.message.includes("dl_max_delta_owd (env SQMA_DOWNLOAD_DELAY_MS): -3 is out of range"),
    e.message,
  );
  assert(e.message.includes("from 0.1 to 10000 ms"), e.message);
});

Deno.test("resolve: a rate cap below the minimum rate is rejected", () => {
  const e = assertThrows(
    () => resolveSettings({ flags: { ...REQUIRED_FLAGS, max_dl_rate: "5000" } }),
    ConfigError,
  );
  assertEquals(e.problems[0].setting, "max_dl_rate");
  assert(e.message.includes("below the minimum rate 10000"), e.message);
});

Deno.test("resolve: an invalid value a flag or env var overrides is warned about, not used", () => {
  const uci = parseUci(
    "config network\n  option upload_base_kbits 'abc'\n  option download_base_kbits '2000'\n",
    "/etc/config/sqm-autorate",
  );
  const r = resolveSettings({
    flags: { ...REQUIRED_FLAGS },
    env: envOf({ SQMA_UPLOAD_BASE_KBITS: "5" }),
    uci,
  }, { requireDaemon: true });
  assertEquals(r.settings.base_ul_rate, 10000);
  const shadowed = r.warnings.filter((w) => w.includes("overridden by flag --upload-base-kbits"));
  assertEquals(shadowed.length, 2, r.warnings.join("\n"));
  assert(shadowed[0].startsWith("base_ul_rate (env SQMA_UPLOAD_BASE_KBITS): 5 is out of range"));
  assert(shadowed[1].includes('@network[0].upload_base_kbits)): "abc" is not an integer'));
  // A valid overridden value is no news.
  assert(!r.warnings.some((w) => w.startsWith("base_dl_rate")), r.warnings.join("\n"));
});

Deno.test("resolve: a service file's SQMA_LOG_PRIORITY_DEFAULT yields to the UCI option, SQMA_LOG_PRIORITY does not", () => {
  const file = (option: string) =>
    parseUci(`config output\n${option}\n`, "/etc/config/sqm-autorate");
  const resolve = (vars: Record<string, string>, uci = file("")) => {
    const names = Object.keys(vars);
    const r = resolveSettings({ flags: REQUIRED_FLAGS, env: envOf(vars), envNames: names, uci });
    return [r.settings.log_priority, describeSource(r.sources.log_priority), r.warnings];
  };
  const service = { SQMA_LOG_PRIORITY_DEFAULT: "stream" };
  // The init script's default, with no option in the file (and no "not a setting" warning).
  assertEquals(resolve(service), ["stream", "env SQMA_LOG_PRIORITY_DEFAULT", []]);
  // The owner's option wins over it (docs/operation.md, "Log priority").
  assertEquals(resolve(service, file("  option log_priority 'none'")), [
    "none",
    "/etc/config/sqm-autorate:2 (@output[0].log_priority)",
    [],
  ]);
  // The documented variable still wins over the file, as every SQMA_* does.
  assertEquals(
    resolve({ ...service, SQMA_LOG_PRIORITY: "prefix" }, file("  option log_priority 'none'"))
      .slice(0, 2),
    ["prefix", "env SQMA_LOG_PRIORITY"],
  );
});

Deno.test("resolve: htb_classid must be a tc class id (MAJ:MIN), refused at the configuration", () => {
  for (const ok of ["1:1", "1:a", "ffff:10", " 2:0 "]) {
    const r = resolveSettings({ flags: { ...REQUIRED_FLAGS, htb_classid: ok } });
    assertEquals(r.settings.htb_classid, ok.trim());
  }
  for (const bad of ["1", "1:", ":1", "1:1:1", "x:1", "12345:1"]) {
    const e = assertThrows(
      () => resolveSettings({ flags: { ...REQUIRED_FLAGS, htb_classid: bad } }),
      ConfigError,
    );
    assert(
      e.message.includes(`htb_classid (flag --htb-classid): "${bad}" is not a class id MAJ:MIN`),
      e.message,
    );
  }
});
