import { assert, assertEquals } from "../util/assert.ts";
import { runCli } from "./mod.ts";
import { captureIo, REQUIRED } from "./testing.ts";
import {
  SETTING_NAMES,
  type SettingName,
  SETTINGS_TABLE,
  type SettingSpec,
} from "../config/mod.ts";
import { ExitCode } from "../util/exit_codes.ts";
import { normalizeArgv } from "./settings_options.ts";

/** Bad values for one setting: [case name, raw value]. Derived from the table. */
function badValues(spec: SettingSpec): [string, string][] {
  switch (spec.kind) {
    case "number":
    case "integer": {
      const cases: [string, string][] = [["wrong type", "abc"], ["empty", ""]];
      if (!spec.clamp) {
        cases.push(["below range", String((spec.min ?? 0) - 1)]);
        cases.push(["above range", String((spec.max ?? 0) * 10 + 1)]);
      }
      return cases;
    }
    case "boolean":
      return [["wrong type", "maybe"], ["empty", ""]];
    case "enum":
      return [["not a choice", "bogus"], ["empty", ""]];
    case "list":
      return [["empty entry", ""]];
    default:
      return spec.required ? [["empty", ""]] : [];
  }
}

type Source = "flag" | "env" | "uci";
const cases: { name: SettingName; source: Source; what: string; value: string }[] = [];
for (const name of SETTING_NAMES) {
  const spec: SettingSpec = SETTINGS_TABLE[name];
  for (const [what, value] of badValues(spec)) {
    cases.push({ name, source: "flag", what, value });
    // An empty env list means "no scripts", not an error.
    if (!(spec.kind === "list")) cases.push({ name, source: "env", what, value });
    if (spec.uci) cases.push({ name, source: "uci", what, value });
  }
}

Deno.test(`cli: generated bad-value table (${cases.length} cases) exits 78 naming the setting`, async () => {
  assert(cases.length >= 200, `only ${cases.length} cases`);
  const dir = await Deno.makeTempDir();
  try {
    for (const c of cases) {
      const spec: SettingSpec = SETTINGS_TABLE[c.name];
      const args = ["show-settings"];
      let envName: string | undefined;
      if (c.source === "flag") args.push(`--${spec.flag}`, c.value);
      if (c.source === "env") {
        envName = spec.env[0];
        Deno.env.set(envName, c.value);
      }
      if (c.source === "uci") {
        const path = `${dir}/cfg`;
        const [section, option] = spec.uci!;
        const kw = spec.kind === "list" ? "list" : "option";
        await Deno.writeTextFile(path, `config ${section}\n  ${kw} ${option} '${c.value}'\n`);
        args.push("--config", path);
      }
      const io = captureIo();
      try {
        const code = await runCli(args, io);
        const label = `${c.name} ${c.what} via ${c.source} (${JSON.stringify(c.value)})`;
        assertEquals(code, ExitCode.CONFIG, `${label}: exit ${code}; stderr ${io.stderr}`);
        assert(io.stderr.includes(`${c.name} (`), `${label}: message lacks name: ${io.stderr}`);
        if (envName) assert(io.stderr.includes(envName), `${label}: lacks ${envName}`);
        if (c.source === "uci") {
          assert(io.stderr.includes(`${dir}/cfg:2`), `${label}: lacks file:line`);
        }
      } finally {
        if (envName) Deno.env.delete(envName);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: check-config prints every setting with its source", async () => {
  const io = captureIo();
  const example = new URL("../config/testdata/upstream-example", import.meta.url).pathname;
  Deno.env.set("SQMA_DOWNLOAD_DELAY_MS", "20");
  try {
    const code = await runCli(["check-config", "--config", example, "--ul", "eth1"], io);
    // The file is valid; that the installed daemon could not read it from there is a warning.
    assertEquals(code, ExitCode.OK, io.stderr);
    assert(io.stderr.includes(`warning: config "${example}" is outside`), io.stderr);
  } finally {
    Deno.env.delete("SQMA_DOWNLOAD_DELAY_MS");
  }
  const line = (name: string) => io.stdout.split("\n").find((l) => l.startsWith(`${name} `)) ?? "";
  assert(line("ul_if").includes("eth1") && line("ul_if").endsWith("flag --upload-interface"));
  assert(line("dl_max_delta_owd").endsWith("env SQMA_DOWNLOAD_DELAY_MS"), line("dl_max_delta_owd"));
  assert(line("dl_if").endsWith(`${example}:4 (@network[0].download_interface)`), line("dl_if"));
  assert(line("exit_rate").endsWith("default"), line("exit_rate"));
  assert(line("min_dl_rate").includes("2000"), line("min_dl_rate"));
  assertEquals(io.stdout.trim().split("\n").length, SETTING_NAMES.length + 3);
});

Deno.test("cli: check-config exits 0 for a valid configuration the daemon may use", async () => {
  const io = captureIo();
  const code = await runCli([
    "check-config",
    ...REQUIRED,
    "--plugin-scripts",
    "builtin:log_readings",
  ], io);
  assertEquals(code, ExitCode.OK, io.stderr);
  assert(io.stderr.endsWith("configuration OK\n"), io.stderr);
});

Deno.test("cli: check-config warns about a stats file the installed daemon may not write", async () => {
  const io = captureIo();
  const code = await runCli(["check-config", ...REQUIRED, "--stats-file", "/var/log/x.csv"], io);
  assertEquals(code, ExitCode.OK, io.stderr);
  assert(io.stderr.includes('warning: stats_file "/var/log/x.csv"'), io.stderr);
  assert(io.stderr.includes("/tmp/sqm-autorate/"), io.stderr);
});

Deno.test("cli: check-config --config works with a relative and an absolute path from a checkout", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const relative = "packaging/openwrt/sqm-autorate.config";
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "start", "check-config", "--config", relative],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, ExitCode.OK, stderr);
  assert(stderr.includes("configuration OK"), stderr);
  // The warning names the file as the daemon would see it and every place that would work.
  assert(stderr.includes(`warning: config "${root}${relative}" is outside`), stderr);
  for (const place of ["/etc/sqm-autorate/", "/tmp/sqm-autorate/", "/etc/config/sqm-autorate"]) {
    assert(stderr.includes(place), `${place} missing: ${stderr}`);
  }
  const io = captureIo();
  assertEquals(await runCli(["check-config", "--config", `${root}${relative}`], io), ExitCode.OK);
  assert(io.stderr.includes("configuration OK"), io.stderr);
});

Deno.test("cli: check-config without interfaces exits 78 and says how to set them", async () => {
  const io = captureIo();
  const code = await runCli(["check-config", "--config", "/nonexistent/sqm"], io);
  assertEquals(code, ExitCode.CONFIG);
  assert(io.stderr.includes("/nonexistent/sqm: no such file"), io.stderr);
  const io2 = captureIo();
  assertEquals(await runCli(["check-config", "--db", "1000"], io2), ExitCode.CONFIG);
  assert(io2.stderr.includes("ul_if (not set): is required: set --upload-interface"), io2.stderr);
});

Deno.test("cli: upstream aliases and --show-settings map onto our flags", async () => {
  assertEquals(normalizeArgv(["--", "--ul", "wan", "-s", "-v", "--", "-s"]), [
    "show-settings",
    "--ul",
    "wan",
    "--version",
    "--",
    "-s",
  ]);
  const io = captureIo();
  const code = await runCli(
    ["--show-settings", ...REQUIRED, "--ns", "--ll=debug", "--db", "5000"],
    io,
  );
  assertEquals(code, ExitCode.OK, io.stderr);
  const lines = io.stdout.trim().split("\n");
  assert(lines.includes("suppress_statistics: true (boolean)"), io.stdout);
  assert(lines.includes("log_level: DEBUG (string)"), io.stdout);
  assert(lines.includes("base_dl_rate: 5000 (number)"), io.stdout);
  assert(lines.includes("plugin_scripts: (none) (table)"), io.stdout);
  const names = lines.map((l) => l.split(":")[0]);
  assertEquals(names, [...names].sort());
});

Deno.test("cli: unknown flag is a usage error (64); --version prints the version", async () => {
  const io = captureIo();
  assertEquals(await runCli(["check-config", "--no-such-flag"], io), ExitCode.USAGE);
  assert(io.stderr.includes("--no-such-flag"), io.stderr);
  const io2 = captureIo();
  assertEquals(await runCli(["--version"], io2), ExitCode.OK);
  assert(/^sqm-autorate \d+\.\d+\.\d+/.test(io2.stdout), io2.stdout);
});

Deno.test("cli: --help lists every setting with its env var and UCI option", async () => {
  const io = captureIo();
  assertEquals(await runCli(["--help"], io), ExitCode.OK);
  for (const name of SETTING_NAMES) {
    const spec: SettingSpec = SETTINGS_TABLE[name];
    assert(io.stdout.includes(`--${spec.flag}`), `--${spec.flag} missing`);
    assert(io.stdout.includes(spec.env[0]), `${spec.env[0]} missing`);
  }
  // The Rust port's nested names are read too (docs/install.md, "Coming from upstream or the
  // Rust port"): the help says so once.
  assert(io.stdout.includes("SQMA_SECTION__OPTION, e.g. SQMA_NETWORK__UPLOAD_INTERFACE"));
});

Deno.test("cli: --help and run --help name each setting's value alike, with its accepted range", async () => {
  const top = captureIo();
  assertEquals(await runCli(["--help"], top), ExitCode.OK);
  const run = captureIo();
  assertEquals(await runCli(["run", "--help"], run), ExitCode.OK);
  const flat = (text: string) => text.replace(/\s+/g, " ");
  for (
    const [label, accepted] of [
      ["--config <file>", "UCI configuration file (default /etc/config/sqm-autorate)"],
      ["--upload-base-kbits, --ub <integer>", "an integer from 10 to 100000000 kbit/s"],
      ["--idle-mode [bool]", "a boolean (1/true/yes/y/on or 0/false/no/n/off)"],
      ["--log-level, --ll <choice>", "one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL"],
      ["--plugin-scripts <path>", "a list of non-empty paths"],
    ]
  ) {
    for (const [name, io] of [["--help", top], ["run --help", run]] as const) {
      assert(io.stdout.includes(label), `${name}: ${label} missing`);
      assert(flat(io.stdout).includes(accepted), `${name}: "${accepted}" missing`);
    }
  }
});

Deno.test("cli: plot --help and simulate --help call required only what they require", async () => {
  const flat = (text: string) => text.replace(/\s+/g, " ");
  const help = async (argv: string[]) => {
    const io = captureIo();
    assertEquals(await runCli(argv, io), ExitCode.OK);
    return flat(io.stdout);
  };
  const run = await help(["run", "--help"]);
  assert(run.includes("(e.g. wan). [default (required);"), "run needs the interfaces");
  const plot = await help(["plot", "--help"]);
  assert(plot.includes("statistics CSV written by the daemon (stats_file) (required)"), plot);
  assert(plot.includes("SVG file to write (required)"), plot);
  assert(plot.includes("(e.g. wan). [default (not needed);"), plot);
  const simulate = await help(["simulate", "--help"]);
  assert(!simulate.includes("required"), simulate);
  assert(simulate.includes("[default the trace's nominal capacity;"), simulate);
  // simulate reads flags and an explicit --config only: neither SQMA_* nor /etc/config.
  assert(!simulate.includes("SQMA_"), simulate);
  assert(simulate.includes("--config <file> UCI configuration file (default: none)"), simulate);
});

Deno.test("cli: SQMA_DOWNLOAD_BASE_KBITS=abc deno task start -- check-config exits 78", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "start", "check-config"],
    cwd: root,
    env: { SQMA_DOWNLOAD_BASE_KBITS: "abc" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 78, stderr);
  assert(stderr.includes("SQMA_DOWNLOAD_BASE_KBITS"), stderr);
  assert(stderr.includes('"abc"'), stderr);
});

Deno.test("cli: check-config names FILE:line of a broken Lua ratecontroller and plugin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const controller = `${dir}/broken_controller.lua`;
    await Deno.writeTextFile(
      controller,
      "local M = {}\nfunction M.calculate(data)\n  return {\nend\nreturn M\n",
    );
    const io = captureIo();
    const code = await runCli(["check-config", ...REQUIRED, "--rate-controller", controller], io);
    assertEquals(code, ExitCode.DATA, io.stderr);
    assert(io.stderr.includes(`broken_controller.lua:`), io.stderr);

    const plugin = `${dir}/broken_plugin.lua`;
    await Deno.writeTextFile(plugin, "return { process = function(r) return {} end\n");
    const io2 = captureIo();
    const code2 = await runCli(["check-config", ...REQUIRED, "--plugin-scripts", plugin], io2);
    assertEquals(code2, ExitCode.DATA, io2.stderr);
    assert(io2.stderr.includes("broken_plugin.lua"), io2.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
