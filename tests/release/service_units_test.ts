/**
 * The shipped systemd units (and the remote one in docs/install.md) restart the daemon after a
 * failure that may pass, and not after one the next start would meet again: with
 * `Restart=on-failure` and `RestartSec=5`, systemd's start limit (5 starts in 10 s) never trips,
 * so an invalid configuration was started again every 5 s for good (docs/install.md, "Run as a
 * systemd service"). Each sets `log_priority` so that journald files every line at its level
 * (docs/operation.md, "Log priority").
 */
import { assertEquals } from "../../src/util/assert.ts";
import { ExitCode } from "../../src/util/exit_codes.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The values of `key=` lines in a unit's text. */
function values(unit: string, key: string): string[] {
  return unit.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) =>
    l.slice(key.length + 1).trim()
  );
}

/** The unit files under packaging/systemd/. */
const PACKAGED_UNITS = ["sqm-autorate.service", "sqm-autorate@.service"];

/** The shipped units and the unit block of docs/install.md's remote mode. */
function units(): [string, string][] {
  const install = Deno.readTextFileSync(`${ROOT}docs/install.md`);
  const remote = /```ini\n(\[Unit\][\s\S]*?)```/.exec(install)?.[1] ?? "";
  return [
    ...PACKAGED_UNITS.map((name): [string, string] => [
      name,
      Deno.readTextFileSync(`${ROOT}packaging/systemd/${name}`),
    ]),
    ["docs/install.md (remote)", remote],
  ];
}

Deno.test("systemd units: restart on failure, except after a configuration a restart meets again", () => {
  const fatal = [ExitCode.USAGE, ExitCode.DATA, ExitCode.CONFIG].map(String).join(" ");
  for (const [name, unit] of units()) {
    assertEquals(values(unit, "Restart"), ["on-failure"], name);
    assertEquals(values(unit, "RestartPreventExitStatus"), [fatal], name);
  }
});

Deno.test("systemd units: each log line carries its syslog priority for journald (log_priority prefix)", () => {
  // tests/release/log_priority_netns_test.ts runs the daemon as the first unit starts it.
  for (const [name, unit] of units()) {
    // A default the UCI file's log_priority overrides (tests/release/log_priority_netns_test.ts).
    assertEquals(values(unit, "Environment"), ["SQMA_LOG_PRIORITY_DEFAULT=prefix"], name);
  }
});

Deno.test("systemd units: every Documentation= file is one docs/install.md's steps install", () => {
  // Before, the units named /usr/local/share/doc/sqm-autorate/install.md, which no step installed
  // (tests/release/release_assets_test.ts checks each installed file is a release asset).
  const install = Deno.readTextFileSync(`${ROOT}docs/install.md`);
  const installed = [...install.matchAll(/^sudo install -m \d+ (\S+) (\/\S+\/)$/gm)].map((m) =>
    `file://${m[2]}${m[1]}`
  );
  const made = [...install.matchAll(/^sudo mkdir -p (\/\S+)/gm)].map((m) => m[1]);
  for (const name of PACKAGED_UNITS) {
    const docs = values(Deno.readTextFileSync(`${ROOT}packaging/systemd/${name}`), "Documentation");
    assertEquals(docs.length > 0, true, name);
    for (const uri of docs) {
      assertEquals(installed.includes(uri), true, `${name}: ${uri} in ${installed.join(", ")}`);
      const dir = uri.slice("file://".length, uri.lastIndexOf("/"));
      assertEquals(made.includes(dir), true, `${name}: ${dir} made before`);
    }
  }
});

Deno.test("OpenWrt init script: procd writes upstream's pid file, /tmp/run/sqm-autorate.pid", async () => {
  // Upstream's service had it: a watchdog that reads it would restart a daemon without one.
  const script = '. "$1"; uci() { :; }; procd_open_instance() { :; }; ' +
    "procd_close_instance() { :; }; procd_set_param() { printf '%s\\n' \"$*\"; }; start_service";
  const out = await new Deno.Command("sh", {
    args: ["-c", script, "sh", `${ROOT}packaging/openwrt/sqm-autorate.init`],
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const params = new TextDecoder().decode(out.stdout).split("\n");
  assertEquals(params.filter((l) => l.startsWith("pidfile ")), [
    "pidfile /tmp/run/sqm-autorate.pid",
  ]);
});
