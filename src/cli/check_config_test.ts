/**
 * `check-config` tells the truth (issue 15 item 9): what `run` would reject is an error here too,
 * misspellings are warned about with where they are and a suggestion.
 */
import { assert, assertEquals, assertStringIncludes } from "../util/assert.ts";
import { runCli } from "./mod.ts";
import { captureIo, REQUIRED } from "./testing.ts";
import { needs } from "../util/netns_testing.ts";
import { remount, tmpfsSkipReason, withTmpfs } from "../util/tmpfs_testing.ts";
import { ExitCode } from "../util/exit_codes.ts";

async function check(args: readonly string[], env: Record<string, string> = {}) {
  const io = captureIo();
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    const code = await runCli(["check-config", ...args], io);
    return { code, stderr: io.stderr, stdout: io.stdout };
  } finally {
    for (const k of Object.keys(env)) Deno.env.delete(k);
  }
}

async function withFile<T>(name: string, text: string, fn: (path: string) => Promise<T>) {
  const dir = await Deno.makeTempDir({ prefix: "sqma-check-" });
  try {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    return await fn(`${dir}/${name}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const UCI = `config network
\toption upload_interface 'wan'
\toption download_interface 'ifb4wan'
\toption upload_base_kbits '10000'
\toption download_base_kbits '50000'
`;

Deno.test("check-config: unknown rate_controller names are errors, wrong case with a hint", async () => {
  for (const name of ["foo", "EWMA"]) {
    const r = await check([...REQUIRED, "--rate-controller", name]);
    assertEquals(r.code, ExitCode.CONFIG, r.stderr);
    assertStringIncludes(r.stderr, `"${name}" is not a ratecontroller`);
  }
  const r = await check([...REQUIRED, "--rate-controller", "EWMA"]);
  assertStringIncludes(r.stderr, 'did you mean "ewma"');
  assertEquals((await check([...REQUIRED, "--rate-controller", "ewma"])).code, ExitCode.OK);
});

Deno.test("check-config: a missing, empty or garbage reflector list is read and rejected", async () => {
  const missing = await check([...REQUIRED, "--reflector-list-file", "/nonexistent/r.csv"]);
  assertEquals(missing.code, ExitCode.CONFIG, missing.stderr);
  assertStringIncludes(missing.stderr, "/nonexistent/r.csv");
  await withFile("empty.csv", "", async (path) => {
    const r = await check([...REQUIRED, "--reflector-list-file", path]);
    assertEquals(r.code, ExitCode.CONFIG, r.stderr);
    assertStringIncludes(r.stderr, "no IPv4 reflectors");
  });
  await withFile("garbage.csv", "\x00\x01binary\nfoo,bar,baz\n", async (path) => {
    const r = await check([...REQUIRED, "--reflector-list-file", path]);
    assertEquals(r.code, ExitCode.CONFIG, r.stderr);
    assertStringIncludes(r.stderr, `${path}:2:`);
  });
  await withFile(
    "ok.csv",
    "reflector_ip,ip_version,description\n9.9.9.9,4,q\nx,4,bad\n",
    (p) =>
      check([...REQUIRED, "--reflector-list-file", p]).then((r) => {
        assertEquals(r.code, ExitCode.OK, r.stderr);
        assertStringIncludes(r.stderr, `warning: ${p}:3:`);
      }),
  );
});

Deno.test("check-config: misspelt UCI options and sections are warned about with file:line", async () => {
  const text = UCI + "\toption upload_min_percnt '30'\n\nconfig advanced_setting\n" +
    "\toption upload_delay_ms '20'\n\nconfig delay_histogram\n\toption x '1'\n";
  await withFile("sqm", text, async (path) => {
    const r = await check(["--config", path]);
    assertEquals(r.code, ExitCode.OK, r.stderr);
    assertStringIncludes(
      r.stderr,
      `warning: ${path}:6: option "upload_min_percnt" is not read from \`config network\` ` +
        '(did you mean "upload_min_percent"?)',
    );
    assertStringIncludes(
      r.stderr,
      `warning: ${path}:8: section type "advanced_setting" is not read by sqm-autorate ` +
        '(did you mean "advanced_settings"?)',
    );
    // A plugin's own section is none of our business.
    assert(!r.stderr.includes("delay_histogram"), r.stderr);
  });
});

Deno.test("check-config: a `config remote` without a host says remote mode is off", async () => {
  // An owner's typo (`hostname` for `host`) left remote mode off with only "not read" said of the
  // option; the daemon then looked for the router's interfaces on this machine (docs/remote.md).
  const section = "\nconfig remote\n\toption hostname 'root@192.168.1.1'\n\toption port '22'\n";
  await withFile("sqm", UCI + section, async (path) => {
    const r = await check(["--config", path]);
    assertEquals(r.code, ExitCode.OK, r.stderr);
    assertStringIncludes(
      r.stderr,
      `warning: ${path}:7: \`config remote\` has no option host, so remote mode is off: the ` +
        "interfaces and tc are this machine's",
    );
    // Given by a flag, remote mode is on: nothing to say.
    const on = await check(["--config", path, "--remote", "root@192.168.1.1"]);
    assert(!on.stderr.includes("remote mode is off"), on.stderr);
  });
  await withFile("sqm", UCI + "\nconfig remote\n\toption host ''\n", async (path) => {
    const r = await check(["--config", path]);
    assertStringIncludes(r.stderr, "`config remote` has an empty option host");
  });
  await withFile(
    "sqm",
    UCI + "\nconfig remote\n\toption host 'root@192.168.1.1'\n",
    async (path) => {
      // The file's host emptied by a flag: local mode on purpose.
      const r = await check(["--config", path, "--remote", ""]);
      assert(!r.stderr.includes("remote mode is off"), r.stderr);
    },
  );
});

Deno.test("check-config: upstream's older option names and misplaced options name the one to use", async () => {
  const text = "config network\n\toption transmit_interface 'wan'\n" +
    "\toption receive_interface 'ifb4wan'\n\toption transmit_kbits_base '10000'\n" +
    "\toption receive_kbits_base '50000'\n\toption transmit_kbits_min '1500'\n" +
    "\toption tick_interval '0.4'\n\toption transmit_OWD_threshold_ms '15'\n" +
    "\toption enabled '0'\n\nconfig output\n\toption hist_size '50'\n" +
    "\nconfig advanced_settings\n\toption rtt_delta_bufferbloat '25'\n";
  await withFile("sqm", text, async (path) => {
    const r = await check(["--config", path]);
    assertEquals(r.code, ExitCode.CONFIG, r.stderr); // the new names are required
    const read = (line: number, option: string, section: string) =>
      `warning: ${path}:${line}: option "${option}" is not read from \`config ${section}\`: `;
    assertStringIncludes(
      r.stderr,
      read(2, "transmit_interface", "network") + `upstream's older name of "upload_interface"`,
    );
    assertStringIncludes(
      r.stderr,
      read(6, "transmit_kbits_min", "network") +
        `upstream's older minimum in kbit/s; now "upload_min_percent", a percentage of ` +
        "upload_base_kbits (1-80): 1500 of 10000 kbit/s is upload_min_percent '15'",
    );
    assertStringIncludes(
      r.stderr,
      read(7, "tick_interval", "network") + "it is read from `config advanced_settings`",
    );
    assertStringIncludes(
      r.stderr,
      read(8, "transmit_OWD_threshold_ms", "network") +
        `upstream's older name of "upload_delay_ms", read from \`config advanced_settings\``,
    );
    // OpenWrt's usual switch is read by nobody: a '0' would leave the daemon shaping.
    assertStringIncludes(
      r.stderr,
      read(9, "enabled", "network") + "sqm-autorate has no on/off option",
    );
    assertStringIncludes(
      r.stderr,
      read(15, "rtt_delta_bufferbloat", "advanced_settings") +
        `upstream's older name of "upload_delay_ms" and "download_delay_ms"`,
    );
    assertStringIncludes(
      r.stderr,
      read(12, "hist_size", "output") +
        `upstream's older name of "speed_hist_size", read from \`config advanced_settings\``,
    );
  });
});

Deno.test("check-config: an interface missing here is a warning saying what run would do", async () => {
  const r = await check([...REQUIRED, "--upload-interface", "sqmanone0"]);
  assertEquals(r.code, ExitCode.OK, r.stderr); // the file may be meant for another machine
  assertStringIncludes(r.stderr, 'warning: ul_if "sqmanone0": ');
  assertStringIncludes(r.stderr, "then exits 69");
});

Deno.test("check-config: a misspelt option that leaves a required setting unset is explained", async () => {
  await withFile("sqm", UCI.replace("upload_interface", "upload_interfce"), async (path) => {
    const r = await check(["--config", path]);
    assertEquals(r.code, ExitCode.CONFIG, r.stderr);
    assertStringIncludes(r.stderr, 'did you mean "upload_interface"');
    assertStringIncludes(r.stderr, "ul_if (not set): is required");
  });
});

Deno.test("check-config: unknown SQMA_* variables are warned about with a suggestion", async () => {
  const r = await check(REQUIRED, { SQMA_DOWNLOAD_DELAY: "20" });
  assertEquals(r.code, ExitCode.OK, r.stderr);
  assertStringIncludes(
    r.stderr,
    'warning: env SQMA_DOWNLOAD_DELAY: not a setting, ignored (did you mean "SQMA_DOWNLOAD_DELAY_MS"?)',
  );
});

Deno.test("check-config: both high-load env aliases set is an error when they differ", async () => {
  const differ = await check(REQUIRED, {
    SQMA_HIGH_LOAD_LEVEL: "0.8",
    SQMA_HIGH_LEVEL_LOAD: "0.9",
  });
  assertEquals(differ.code, ExitCode.CONFIG, differ.stderr);
  assertStringIncludes(differ.stderr, "SQMA_HIGH_LOAD_LEVEL");
  assertStringIncludes(differ.stderr, "SQMA_HIGH_LEVEL_LOAD");
  const same = await check(REQUIRED, { SQMA_HIGH_LOAD_LEVEL: "0.9", SQMA_HIGH_LEVEL_LOAD: "0.9" });
  assertEquals(same.code, ExitCode.OK, same.stderr);
  assertStringIncludes(same.stderr, "set only one");
});

Deno.test("check-config: interfaces and files that cannot work", async () => {
  const cases: [string[], string][] = [
    [["--download-interface", "wan"], "also the upload interface"],
    [["--download-interface", "averyveryverylongname0"], "at most 15"],
    [["--download-interface", "ifb/4"], "cannot be an interface name"],
    [["--upload-interface", "w an"], "cannot be an interface name"],
    [
      ["--stats-file", "/tmp/sqm-autorate/x.csv", "--speed-hist-file", "/tmp/sqm-autorate/x.csv"],
      "also stats_file",
    ],
  ];
  for (const [args, text] of cases) {
    const r = await check([...REQUIRED, ...args]);
    assertEquals(r.code, ExitCode.CONFIG, `${args.join(" ")}: ${r.stderr}`);
    assertStringIncludes(r.stderr, text);
  }
  // With statistics off the two files are never written: no conflict.
  const off = await check([
    ...REQUIRED,
    "--suppress-statistics",
    "--stats-file",
    "/tmp/sqm-autorate/x.csv",
    "--speed-hist-file",
    "/tmp/sqm-autorate/x.csv",
  ]);
  assertEquals(off.code, ExitCode.OK, off.stderr);
});

Deno.test("check-config: a UTF-8 byte-order mark is accepted", async () => {
  await withFile("sqm", "\uFEFF" + UCI, async (path) => {
    const r = await check(["--config", path]);
    assertEquals(r.code, ExitCode.OK, r.stderr);
  });
});

Deno.test("show-settings prints the settings but exits 78 when required ones are missing", async () => {
  const io = captureIo();
  const code = await runCli(["show-settings", "--upload-interface", "wan"], io);
  assertEquals(code, ExitCode.CONFIG, io.stderr);
  assertStringIncludes(io.stdout, "ul_if: wan (string)");
  assertStringIncludes(io.stderr, "dl_if is required");
  assert(!io.stderr.includes("ul_if is required"), io.stderr);
  const ok = captureIo();
  assertEquals(await runCli(["show-settings", ...REQUIRED], ok), ExitCode.OK, ok.stderr);
});

/** `run` in a child process: it configures process-wide logging. */
async function run(args: string[]) {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=dev", main, "run", ...REQUIRED, "--ll", "info", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("run rejects what check-config rejects, before anything starts", async () => {
  const rc = await run(["--rate-controller", "EWMA"]);
  assertEquals(rc.code, ExitCode.CONFIG, rc.stderr);
  assertStringIncludes(rc.stderr, '"EWMA" is not a ratecontroller');
  const list = await run(["--reflector-list-file", "/nonexistent/r.csv"]);
  assertEquals(list.code, ExitCode.CONFIG, list.stderr);
  assertStringIncludes(list.stderr, "/nonexistent/r.csv");
  assert(!list.stderr.includes("waiting for interfaces"), list.stderr);
});

Deno.test("run rejects a metrics_listen or MQTT broker outside the manifest as check-config does (78)", async () => {
  // A local broker's port taken by the listener, the publisher pointed at the daemon's own
  // listener: check-config rejected both, run (under -P=dev, where both are allowed) started.
  for (
    const args of [
      ["--metrics-listen", "127.0.0.1:1883"],
      ["--mqtt-url", "mqtt://127.0.0.1:9101"],
    ]
  ) {
    const cc = await check([...REQUIRED, ...args]);
    assertEquals(cc.code, ExitCode.CONFIG, cc.stderr);
    const message = cc.stderr.split("\n").find((l) => l.includes("is outside"))?.replace(
      /^.*?((metrics_listen|mqtt_url): )/,
      "$1",
    );
    assert(message !== undefined, cc.stderr);
    const r = await run(args);
    assertEquals(r.code, ExitCode.CONFIG, r.stderr);
    assertStringIncludes(r.stderr, message);
    assert(!r.stderr.includes("waiting for interfaces"), r.stderr);
  }
});

Deno.test("run without a usable pinger exits 69 before anything starts", async () => {
  const r = await run(["--pinger", "fping", "--pinger-binary", "/nonexistent/fping"]);
  assertEquals(r.code, ExitCode.UNAVAILABLE, r.stderr);
  assert(!r.stderr.includes("waiting for interfaces"), r.stderr);
});

Deno.test("check-config warns about a pinger that does not run here, as run exits 69", async () => {
  // Until the twenty-ninth session check-config said "configuration OK" and run exited 69 at once.
  const args = [...REQUIRED, "--pinger", "fping", "--pinger-binary", "/nonexistent/fping"];
  const r = await check(args);
  assertEquals(r.code, ExitCode.OK, r.stderr);
  assertStringIncludes(
    r.stderr,
    'warning: pinger "fping": no usable pinger found (tried /nonexistent/fping)',
  );
  assertStringIncludes(r.stderr, "here run exits 69");
});

Deno.test("error messages name the setting once (no repeated prefixes)", async () => {
  await withFile(
    "broken.lua",
    "local M = {}\nfunction M.calculate(d)\n  return {\nend\n",
    async (p) => {
      const r = await check([...REQUIRED, "--rate-controller", p]);
      assertEquals(r.code, ExitCode.DATA, r.stderr);
      const line = r.stderr.split("\n").find((l) => l.startsWith("error:")) ?? "";
      assertEquals(line.split(`rate_controller "${p}"`).length, 2, line);
    },
  );
  const r = await check([...REQUIRED, "--rate-controller", "foo"]);
  const text = r.stderr.slice(r.stderr.indexOf("invalid configuration"));
  assertEquals(text.split("rate_controller").length, 2, text);
});

/**
 * `run` in a child process until it waits for the interfaces (none of REQUIRED's exist here):
 * what it logged before anything started.
 */
async function runUntilWaiting(args: string[]): Promise<string> {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const state = await Deno.makeTempDir({ prefix: "sqma-check-state-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=dev", main, "run", ...REQUIRED, "--state-dir", state, ...args],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("waiting for interfaces")) break;
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(state, { recursive: true });
  }
  return text;
}

Deno.test("check-config and run: a stats_file or speedhist_file that is a directory is named (a warning)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-check-" });
  try {
    for (
      const [flag, setting, file] of [
        ["--stats-file", "stats_file", "sqm-autorate.csv"],
        ["--speed-hist-file", "speedhist_file", "sqm-speedhist.csv"],
      ]
    ) {
      // The daemon runs on without statistics (one ERROR at the first write): not an error.
      const r = await check([...REQUIRED, flag, dir]);
      assertEquals(r.code, ExitCode.OK, r.stderr);
      const warning = `warning: ${setting} "${dir}" is a directory: it takes no statistics`;
      assertStringIncludes(r.stderr, warning);
      assertStringIncludes(
        r.stderr,
        `give a file, e.g. ${dir}/${file}, or set suppress_statistics`,
      );
      assertStringIncludes(await runUntilWaiting([flag, dir]), warning.slice("warning: ".length));
      const off = await check([...REQUIRED, flag, dir, "--suppress-statistics"]);
      assert(!off.stderr.includes("is a directory"), off.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check-config and run: a reflector list shorter than num_reflectors is named (a warning)", async () => {
  const csv = "reflector_ip,ip_version,description\n192.0.2.1,4,a\n192.0.2.2,4,b\n192.0.2.2,4,b\n";
  await withFile("two.csv", csv, async (path) => {
    const args = [...REQUIRED, "--reflector-list-file", path, "--num-reflectors", "5"];
    const r = await check(args);
    assertEquals(r.code, ExitCode.OK, r.stderr);
    const warning =
      `reflector_list_file ${path} holds 2 reflector(s), fewer than num_reflectors (5)`;
    assertStringIncludes(r.stderr, `warning: ${warning}`);
    assertStringIncludes(r.stderr, "set num_reflectors to 2");
    assertStringIncludes(await runUntilWaiting(args.slice(REQUIRED.length)), warning);
    const enough = await check([...args.slice(0, -1), "2"]);
    assert(!enough.stderr.includes("fewer than num_reflectors"), enough.stderr);
  });
});

Deno.test("check-config: a stats file that cannot be written is named, and nothing is made or emptied", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-check-" });
  try {
    // Its parent is a file: the writer could neither make the directory nor write into it.
    await Deno.writeTextFile(`${dir}/afile`, "");
    const underFile = await check([...REQUIRED, "--stats-file", `${dir}/afile/s.csv`]);
    assertEquals(underFile.code, ExitCode.OK, underFile.stderr);
    assertStringIncludes(
      underFile.stderr,
      `warning: stats_file "${dir}/afile/s.csv" cannot be written here: Not a directory`,
    );
    assertStringIncludes(underFile.stderr, "give a path it can write, or set suppress_statistics");
    // Writable: a file with rows and one in a directory not made yet. No warning; the rows, the
    // file's time and the directory are as they were, and no file of the check's is left.
    const rows = "header\n1,2\n";
    await Deno.writeTextFile(`${dir}/old.csv`, rows);
    const before = await Deno.stat(`${dir}/old.csv`);
    const ok = await check([
      ...REQUIRED,
      ...["--stats-file", `${dir}/old.csv`, "--speed-hist-file", `${dir}/sub/h.csv`],
    ]);
    assertEquals(ok.code, ExitCode.OK, ok.stderr);
    assert(!ok.stderr.includes("cannot be written"), ok.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/old.csv`), rows);
    assertEquals((await Deno.stat(`${dir}/old.csv`)).mtime, before.mtime);
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assertEquals(left.sort(), ["afile", "old.csv"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  ...needs(
    "check-config: stats files on a read-only file system are named, the one there untouched",
    tmpfsSkipReason(),
  ),
  fn: () =>
    withTmpfs(64, async (dir) => {
      const rows = "header\n1,2\n";
      await Deno.writeTextFile(`${dir}/old.csv`, rows);
      await remount(dir, true);
      try {
        const r = await check([
          ...REQUIRED,
          ...["--stats-file", `${dir}/old.csv`, "--speed-hist-file", `${dir}/new.csv`],
        ]);
        assertEquals(r.code, ExitCode.OK, r.stderr);
        assertStringIncludes(
          r.stderr,
          `warning: stats_file "${dir}/old.csv" cannot be written here: Read-only file system`,
        );
        assertStringIncludes(
          r.stderr,
          `warning: speedhist_file "${dir}/new.csv" cannot be written here: cannot make a file ` +
            `in ${dir}: Read-only file system`,
        );
        assertEquals(await Deno.readTextFile(`${dir}/old.csv`), rows);
      } finally {
        await remount(dir, false);
      }
    }),
});

Deno.test("check-config: the Rust port's UCI options and env names are read or explained", async () => {
  // The Rust port's later environment names: SQMA_<SECTION>__<OPTION> of the UCI option.
  const nested = {
    SQMA_NETWORK__UPLOAD_INTERFACE: "wan",
    SQMA_NETWORK__DOWNLOAD_INTERFACE: "ifb4wan",
    SQMA_NETWORK__UPLOAD_BASE_KBITS: "20000",
    SQMA_NETWORK__DOWNLOAD_BASE_KBITS: "100000",
    SQMA_ADVANCED_SETTINGS__MEASUREMENT_TYPE: "icmp_timestamps",
    SQMA_OBSERVABILITY__ENABLED: "true",
    // Its first ones: absolute minimums, now percentages of the base rates.
    SQMA_DOWNLOAD_MIN_KBITS: "20000",
  };
  const r = await withFile("sqm", "", (p) => check(["--config", p], nested));
  assertEquals(r.code, ExitCode.OK, r.stderr);
  assertStringIncludes(r.stdout, "env SQMA_NETWORK__UPLOAD_INTERFACE");
  assert(/measurement_type\s+icmp-timestamps\s+env SQMA_ADVANCED_SETTINGS__/.test(r.stdout));
  assertStringIncludes(
    r.stderr,
    "env SQMA_DOWNLOAD_MIN_KBITS: not a setting, ignored: the Rust port's minimum in kbit/s; " +
      "now SQMA_DOWNLOAD_MIN_PERCENT, a percentage of SQMA_DOWNLOAD_BASE_KBITS (1-80): 20000 of " +
      "100000 kbit/s is SQMA_DOWNLOAD_MIN_PERCENT=20",
  );
  assert(!r.stderr.includes("SQMA_DOWNLOAD_MAX_KBITS"), r.stderr); // not "did you mean" the cap
  assertStringIncludes(r.stderr, "SQMA_OBSERVABILITY__ENABLED: not a setting, ignored: the Rust");

  const text = UCI + "\toption upload_min_kbits '2000'\n\nconfig output\n\toption verbose '1'\n" +
    "\nconfig advanced_settings\n\toption dry_run '1'\n\nconfig observability\n" +
    "\toption enabled '1'\n";
  await withFile("sqm", text, async (path) => {
    const f = await check(["--config", path]);
    // A dry run asked for is refused: this daemon would change the shaper it was told to leave.
    assertEquals(f.code, ExitCode.CONFIG, f.stderr);
    assertStringIncludes(
      f.stderr,
      `dry_run (${path}:12 (@advanced_settings[0].dry_run)): "1": the Rust port's dry run`,
    );
    assertStringIncludes(
      f.stderr,
      `${path}:6: option "upload_min_kbits" is not read from \`config network\`: the Rust ` +
        'port\'s minimum in kbit/s; now "upload_min_percent", a percentage of ' +
        "upload_base_kbits (1-80): 2000 of 10000 kbit/s is upload_min_percent '20'",
    );
    assertStringIncludes(
      f.stderr,
      `${path}:9: option "verbose" is not read from \`config output\`: upstream's older switch`,
    );
    assertStringIncludes(
      f.stderr,
      `${path}:14: section type "observability" is not read by sqm-autorate: the Rust port's metrics export`,
    );
    const off = await withFile(
      "sqm",
      text.replace("dry_run '1'", "dry_run 'false'"),
      (p) => check(["--config", p]),
    );
    assertEquals(off.code, ExitCode.OK, off.stderr);
  });
});

Deno.test("check-config: the Rust port package's `config sqm-autorate` section is parsed and explained", async () => {
  // libuci allows '-' in a section type; the package writes its one section so.
  const text = "config sqm-autorate 'main'\n\toption upload_interface 'wan'\n" +
    "\toption log_level 'info'\n\toption testing '1'\n\nconfig output\n\toption use_stdout 'true'\n";
  await withFile("sqm", text, async (path) => {
    const r = await check(["--config", path]);
    assertEquals(r.code, ExitCode.CONFIG, r.stderr); // the interfaces are not in `config network`
    const at = (line: number, option: string) =>
      `${path}:${line}: option "${option}" is not read from \`config sqm-autorate\` (the Rust ` +
      "port package's section): ";
    assertStringIncludes(r.stderr, at(2, "upload_interface") + "it is read from `config network`");
    assertStringIncludes(r.stderr, at(3, "log_level") + "it is read from `config output`");
    assertStringIncludes(r.stderr, at(4, "testing") + "the Rust port package's monitoring mode");
    assertStringIncludes(
      r.stderr,
      `${path}:7: option "use_stdout" is not read from \`config output\`: the Rust port's`,
    );
    assert(!r.stderr.includes("invalid section type"), r.stderr);
  });
  // With the options where they are read, its monitoring mode is refused like dry_run.
  await withFile(
    "sqm",
    UCI + "\nconfig sqm-autorate 'main'\n\toption testing '1'\n",
    async (path) => {
      const r = await check(["--config", path]);
      assertEquals(r.code, ExitCode.CONFIG, r.stderr);
      assertStringIncludes(r.stderr, `dry_run (${path}:8 (@sqm-autorate[0].testing)): "1"`);
    },
  );
});
