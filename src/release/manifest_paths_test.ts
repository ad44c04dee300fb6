import { assert, assertEquals, assertStringIncludes } from "../util/assert.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { settingsWithDefaults } from "../config/defaults.ts";
import { DAEMON_MANIFEST, type PermissionManifest, STATS_DIR } from "./manifest.ts";
import {
  checkPathsAgainstManifest,
  type ManifestPathSettings,
  pathAllowed,
  programAllowed,
} from "./manifest_paths.ts";
import { manifestConfigCheck } from "./manifest_check.ts";

function settings(overrides: Partial<ManifestPathSettings> = {}): ManifestPathSettings {
  return { ...settingsWithDefaults({}), ...overrides };
}

Deno.test("embedded manifest equals deno.json permissions.daemon", () => {
  const fromConfig = (denoJson as { permissions: Record<string, unknown> }).permissions.daemon;
  assertEquals(fromConfig, DAEMON_MANIFEST);
});

Deno.test("manifest grants no sys, ffi or blanket permission; net only metrics and a local MQTT broker", () => {
  const daemon = (denoJson as { permissions: Record<string, Record<string, unknown>> })
    .permissions.daemon;
  assertEquals(Object.keys(daemon).sort(), ["env", "net", "read", "run", "write"]);
  // Listening on 9101 (metrics_listen) and connecting to a broker on this machine (mqtt_url).
  for (const entry of DAEMON_MANIFEST.net) assert(/:(9101|1883)$/.test(entry), entry);
  for (const kind of ["net", "run", "read", "write"] as const) {
    assert(Array.isArray(daemon[kind]), `${kind} must be a list, not true`);
  }
  assertEquals(DAEMON_MANIFEST.env.allow, ["SQMA_*"]);
  assert(DAEMON_MANIFEST.env.ignore.every((n) => !n.includes("*")), "ignore exact names only");
});

Deno.test("upstream default settings pass", () => {
  assertEquals(checkPathsAgainstManifest(settings()), []);
});

Deno.test("pathAllowed matches whole components and normalises ..", () => {
  const entries = ["/tmp/sqm-autorate/", "/tmp/sqm-autorate.csv"];
  assert(pathAllowed("/tmp/sqm-autorate/wan.csv", entries));
  assert(pathAllowed("/tmp/sqm-autorate", entries));
  assert(pathAllowed("/tmp/sqm-autorate.csv", entries));
  assert(!pathAllowed("/tmp/sqm-autorate.csv.2", entries));
  assert(!pathAllowed("/tmp/sqm-autorate-evil/x", entries));
  assert(!pathAllowed("/tmp/sqm-autorate/../shadow", entries));
  assert(!pathAllowed("tmp/sqm-autorate/x", entries));
});

Deno.test("programAllowed: names by name, paths exactly", () => {
  const run = ["fping", "/usr/bin/fping"];
  assert(programAllowed("fping", run));
  assert(programAllowed("/usr/bin/fping", run));
  assert(programAllowed("/usr/bin/../bin/fping", run));
  assert(!programAllowed("/opt/fping", run));
  assert(!programAllowed("sh", run));
  assert(!programAllowed("bin/fping", run));
});

Deno.test("stats files in the stats directory are accepted, elsewhere rejected with advice", () => {
  assertEquals(
    checkPathsAgainstManifest(settings({
      stats_file: `${STATS_DIR}wan.csv`,
      speedhist_file: `${STATS_DIR}wan-speedhist.csv`,
    })),
    [],
  );
  const issues = checkPathsAgainstManifest(settings({ stats_file: "/var/log/sqm.csv" }));
  assertEquals(issues.length, 1);
  assertEquals(issues[0].setting, "stats_file");
  assertEquals(issues[0].access, "write");
  assertStringIncludes(issues[0].message, "/var/log/sqm.csv");
  assertStringIncludes(issues[0].message, "/tmp/sqm-autorate/");
  assertStringIncludes(issues[0].message, "/tmp/sqm-autorate/sqm.csv");
  assertStringIncludes(issues[0].message, "/tmp/sqm-autorate.csv");
});

Deno.test("a stats file whose rotated copy is not writable is rejected", () => {
  // Only the file itself is granted: rotation to .1 would fail at run time.
  const manifest: PermissionManifest = {
    ...DAEMON_MANIFEST,
    read: ["/x/a.csv"],
    write: ["/x/a.csv"],
  };
  const issues = checkPathsAgainstManifest(
    settings({ stats_file: "/x/a.csv", suppress_statistics: false }),
    manifest,
  );
  // (This manifest has no directory for the state either.)
  assertEquals(issues.map((i) => i.setting), ["stats_file", "speedhist_file", "state_dir"]);
  assertStringIncludes(issues[0].message, "/x/a.csv.1");
});

Deno.test("stats paths are not checked when statistics are suppressed", () => {
  const s = settings({ stats_file: "/var/log/a.csv", suppress_statistics: true });
  assertEquals(checkPathsAgainstManifest(s), []);
});

Deno.test("/tmp in general is not writable, only the sqm-autorate names", () => {
  const issues = checkPathsAgainstManifest(settings({ speedhist_file: "/tmp/other.csv" }));
  assertEquals(issues.map((i) => i.setting), ["speedhist_file"]);
});

Deno.test("reflector list and plugin paths must be readable", () => {
  assertEquals(
    checkPathsAgainstManifest(settings({
      reflector_list_file: "/etc/sqm-autorate/reflectors-icmp.csv",
      plugin_ratecontrol: "/etc/sqm-autorate/plugins/log_readings.lua",
      plugin_scripts: ["delay-histogram", "/etc/sqm-autorate/x.lua"],
      rate_controller: "/etc/sqm-autorate/my_controller.lua",
    })),
    [],
  );
  assertEquals(checkPathsAgainstManifest(settings({ rate_controller: "builtin:ewma" })), []);
  const issues = checkPathsAgainstManifest(settings({
    reflector_list_file: "/root/reflectors.csv",
    plugin_ratecontrol: "/usr/lib/lua/x.lua",
    plugin_scripts: ["pretty_speeds", "/home/u/y.lua", "../z.lua"],
    rate_controller: "/root/rc.lua",
  }));
  assertEquals(issues.map((i) => [i.setting, i.value, i.access]), [
    ["reflector_list_file", "/root/reflectors.csv", "read"],
    ["plugin_ratecontrol", "/usr/lib/lua/x.lua", "read"],
    ["plugin_scripts", "/home/u/y.lua", "read"],
    ["plugin_scripts", "../z.lua", "read"],
    ["rate_controller", "/root/rc.lua", "read"],
  ]);
  assertStringIncludes(
    issues[0].message,
    "a file in /etc/sqm-autorate/ or /usr/lib/sqm-autorate/ or /tmp/sqm-autorate/",
  );
  assert(!issues[0].message.includes(".csv.1"), "stats files are no advice for reading");
  assertStringIncludes(issues[3].message, "absolute path");
});

Deno.test("pinger_binary must be a listed name or absolute path", () => {
  for (
    const ok of ["", "fping", "tsping", "/usr/bin/fping", "/bin/ping", "/usr/local/bin/tsping"]
  ) {
    assertEquals(checkPathsAgainstManifest(settings({ pinger_binary: ok })), [], ok);
  }
  for (const bad of ["/opt/fping/fping", "sh", "./fping"]) {
    const issues = checkPathsAgainstManifest(settings({ pinger_binary: bad }));
    assertEquals(issues.map((i) => i.access), ["run"], bad);
    assertStringIncludes(issues[0].message, "/usr/bin/fping");
    assertStringIncludes(issues[0].message, "leave it empty");
  }
});

Deno.test("the --config file must be readable", () => {
  const ok = [
    "/etc/config/sqm-autorate",
    "/etc/sqm-autorate/wan2.conf",
    "/tmp/sqm-autorate/test.conf",
  ];
  for (const configPath of ok) {
    assertEquals(checkPathsAgainstManifest(settings(), DAEMON_MANIFEST, { configPath }), []);
  }
  const issues = checkPathsAgainstManifest(settings(), DAEMON_MANIFEST, {
    configPath: "/root/sqm.conf",
  });
  assertEquals(issues.map((i) => i.setting), ["config"]);
  // Every place that would work is named, the writable /tmp/sqm-autorate/ included, but not the
  // single stats files (readable only so they can be rotated).
  assertStringIncludes(issues[0].message, "/etc/sqm-autorate/");
  assertStringIncludes(issues[0].message, "/tmp/sqm-autorate/");
  assertStringIncludes(issues[0].message, "/etc/config/sqm-autorate");
  assert(!issues[0].message.includes("sqm-autorate.csv"), issues[0].message);
});

Deno.test("manifestConfigCheck reports manifest issues as warnings", async () => {
  const result = await manifestConfigCheck({
    settings: { ...settingsWithDefaults({}), stats_file: "/srv/a.csv" },
    sources: {} as never,
    warnings: [],
    uci: { path: "/home/x/sqm", sections: [] },
  });
  assertEquals(result.problems, []);
  assertEquals(result.warnings?.length, 2);
  assertStringIncludes(result.warnings![0], "stats_file");
  assertStringIncludes(result.warnings![1], "/home/x/sqm");
});

Deno.test("state_dir outside the writable directories, relative or empty is named", () => {
  // Outside, the installed daemon would run without its interface locks (one ERROR at start).
  assertEquals(checkPathsAgainstManifest(settings({ state_dir: `${STATS_DIR}wan2/` })), []);
  const outside = checkPathsAgainstManifest(settings({ state_dir: "/var/run/sqm-autorate" }));
  assertEquals(outside.map((i) => [i.setting, i.access]), [["state_dir", "write"]]);
  assertStringIncludes(outside[0].message, "without its interface locks");
  assertStringIncludes(outside[0].message, STATS_DIR);
  for (const state_dir of ["", "state"]) {
    const issues = checkPathsAgainstManifest(settings({ state_dir }));
    assertEquals(issues.map((i) => i.setting), ["state_dir"], state_dir);
    assertStringIncludes(issues[0].message, "must be an absolute path");
  }
});
