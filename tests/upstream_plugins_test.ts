/**
 * Plugins written the way upstream's own are (tests/fixtures/upstream_plugins: a generic readings
 * dump, a histogram with decimal options read by tonumber(x, 10), Lua 5.1 idioms, a Lua 5.1
 * module(...) plugin with setfenv) run unmodified
 * through `check-config`, `simulate` and `run` (real tc, ip and fping in a network namespace),
 * each getting its UCI section from the same configuration file.
 */
import { assert, assertEquals } from "../src/util/assert.ts";
import {
  addTbfVethPair,
  must,
  needs,
  netnsSkipReason,
  runtimeDirSkipReason,
  withNetns,
} from "../src/util/netns_testing.ts";
import { ROOT, runDeno } from "./release/run_deno.ts";
import { daemonRunArgv } from "./e2e/daemon_flags.ts";

const FIXTURES = `${ROOT}/tests/fixtures/upstream_plugins`;
/** Every test here works in a directory under the daemon's runtime directory. */
const RUNTIME_DIR_REASON = runtimeDirSkipReason();

/**
 * Copies the fixture plugins and their configuration (plugin paths filled in) into a fresh
 * directory under /tmp/sqm-autorate/, which the daemon's permission set may read.
 */
async function config(): Promise<{ dir: string; path: string }> {
  await Deno.mkdir("/tmp/sqm-autorate", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "/tmp/sqm-autorate", prefix: "upstream-plugins-" });
  for (
    const name of [
      "dump_readings.lua",
      "histogram.lua",
      "lua51_idioms.lua",
      "lua51_module.lua",
      "delay-buckets.lua",
    ]
  ) {
    await Deno.copyFile(`${FIXTURES}/${name}`, `${dir}/${name}`);
  }
  const text = (await Deno.readTextFile(`${FIXTURES}/sqm-autorate.config.in`))
    .replaceAll("@DIR@", dir);
  const path = `${dir}/sqm-autorate`;
  await Deno.writeTextFile(path, text);
  return { dir, path };
}

/** What every run must show: each plugin loaded, got its options, and never failed. */
/**
 * Collects a child's stdout and stderr as one text; `waitFor` polls (bounded, 40 s) until a
 * marker shows up, `done` resolves with everything once both streams end.
 */
function collectOutput(child: Deno.ChildProcess) {
  let output = "";
  const dec = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) output += dec.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  return {
    text: () => output,
    done: pumps.then(() => output),
    waitFor: async (marker: string, pollMs: number) => {
      const deadline = Date.now() + 40_000;
      while (!output.includes(marker) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },
  };
}

function assertPluginsWorked(output: string, what: string): void {
  assert(output.includes("lua51_idioms: 7,42,1024,1,3,5,61440,7,00ff,3,2"), `${what}:\n${output}`);
  // module(...) got the name require would pass, setfenv gave round_down its own globals, and
  // settings.plugin(_NAME) found the plugin's section.
  assert(output.includes("lua51_module: lua51_module true 1000 2"), `${what}:\n${output}`);
  assert(
    output.includes(
      "histogram: cutoff 0.99 low load 0.2 bucket 1.5 ms after 4 samples " +
        "(section histogram)",
    ),
    `${what}:\n${output}`,
  );
  // delay-histogram's way: its options read behind `if settings.plugin then`, the level by name.
  assert(
    output.includes("delay-buckets - settings:") && output.includes("every_seconds=4") &&
      output.includes("report_level=INFO"),
    `${what}:\n${output}`,
  );
  const dump = output.split("\n").find((l) => l.includes("dump_readings: cur_dl_rate="));
  assert(dump !== undefined, `${what}: no readings dump:\n${output}`);
  // exactly upstream's eleven readings, all printed as numbers
  const pairs = dump.slice(dump.indexOf("dump_readings:") + 15).trim().split(" ");
  assertEquals(pairs.map((p) => p.split("=")[0]), [
    "cur_dl_rate",
    "cur_ul_rate",
    "down_del_stat",
    "down_utilisation",
    "next_dl_rate",
    "next_ul_rate",
    "now_s",
    "rx_load",
    "tx_load",
    "up_del_stat",
    "up_utilisation",
  ]);
  for (const p of pairs) assert(Number.isFinite(Number(p.split("=")[1])), `${what}: ${p}`);
  for (const bad of ["failed", "not loaded", "disabled", "attempt to"]) {
    assert(!output.includes(bad), `${what}: "${bad}" in:\n${output}`);
  }
}

Deno.test(
  needs(
    "upstream-style plugins: check-config loads them and runs one tick, with their log lines",
    RUNTIME_DIR_REASON,
  ),
  async () => {
    const { dir, path } = await config();
    try {
      const r = await runDeno(["run", "-P=dev", "main.ts", "check-config", "--config", path]);
      assertEquals(r.code, 0, r.stderr);
      assertPluginsWorked(r.stderr, "check-config");
      assert(r.stderr.includes("configuration OK"), r.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  needs(
    "upstream-style plugins: a plugin failing at run time fails check-config with file:line (65)",
    RUNTIME_DIR_REASON,
  ),
  async () => {
    const { dir, path } = await config();
    try {
      // Without its options tonumber(nil, 10) is nil, and process() fails on the first tick.
      const text = (await Deno.readTextFile(path)).replace(
        /config histogram\n(\s+option .*\n)+/,
        "",
      );
      await Deno.writeTextFile(path, text);
      const r = await runDeno(["run", "-P=dev", "main.ts", "check-config", "--config", path]);
      assertEquals(r.code, 65, r.stderr);
      assert(
        r.stderr.includes(
          `error: plugin histogram: process() failed (error): ${dir}/histogram.lua:22:`,
        ),
        r.stderr,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  needs(
    "upstream-style plugins: simulate --config runs them with their UCI sections",
    RUNTIME_DIR_REASON,
  ),
  async () => {
    const { dir, path } = await config();
    try {
      const r = await runDeno([
        "run",
        "-P=dev",
        "main.ts",
        "simulate",
        "--config",
        path,
        "--duration",
        "20",
        "--log-level",
        "INFO",
        "--lua-time-limit-ms",
        "2000",
      ]);
      assertEquals(r.code, 0, r.stderr);
      assertPluginsWorked(r.stderr, "simulate");
      // delay-histogram's report: %5d of a fractional time (5.4 alone raises "number has no
      // integer representation"), bucket keys from math.ceil of fractional delays.
      assert(
        /UP {4}s: +\d+ {2}#: +\d+ \| ms: +\d+ {2}#: +\d+ {2}c: \d\.\d{6}/.test(r.stderr),
        r.stderr,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

const reason = (await netnsSkipReason()) ?? RUNTIME_DIR_REASON;

Deno.test({
  name: `upstream-style plugins: run in a network namespace (real tc, ip, fping)${
    reason ? ` — ignored: ${reason}` : ""
  }`,
  ignore: reason !== undefined,
  fn: () =>
    withNetns("sqma-upplug", async (ns) => {
      const { dir, path } = await config();
      try {
        await addTbfVethPair(ns, "vdl", "vul");
        // Loopback answers every 127/8 address: eight reflectors inside the namespace.
        const list = `${dir}/reflectors.csv`;
        const rows = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1},4,loopback ${i + 1}`);
        await Deno.writeTextFile(list, ["reflector_ip,ip_version,description", ...rows].join("\n"));
        const child = new Deno.Command("ip", {
          args: [
            "netns",
            "exec",
            ns,
            Deno.execPath(),
            "run",
            "-P=dev",
            `${ROOT}/main.ts`,
            "run",
            "--config",
            path,
            "--reflector-list-file",
            list,
            "--measurement-type",
            "icmp",
            "--pinger",
            "fping",
            "--lua-time-limit-ms",
            "2000",
          ],
          cwd: ROOT,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const out = collectOutput(child);
        await out.waitFor("dump_readings: cur_dl_rate=", 200);
        child.kill("SIGTERM");
        const status = await child.status;
        const output = await out.done;
        assertEquals(status.code, 0, output);
        assertPluginsWorked(output, "run");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});

Deno.test({
  name:
    `run under -P=daemon: the Lua controller and plugins run in one worker; SIGTERM sets the exit rate within 1 s while a plugin spins in a pattern match${
      reason ? ` — ignored: ${reason}` : ""
    }`,
  ignore: reason !== undefined,
  fn: () =>
    withNetns("sqma-spin", async (ns) => {
      const dir = await Deno.makeTempDir({ dir: "/tmp/sqm-autorate", prefix: "spin-" });
      try {
        await addTbfVethPair(ns, "vdl", "vul");
        await Deno.copyFile(`${ROOT}/src/lua/testdata/spin.lua`, `${dir}/spin.lua`);
        // A Lua controller that says when it is called and holds the rates.
        await Deno.writeTextFile(
          `${dir}/hold.lua`,
          'return { calculate = function() print("hold: calculate") return nil end }\n',
        );
        const list = `${dir}/reflectors.csv`;
        const rows = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1},4,loopback ${i + 1}`);
        await Deno.writeTextFile(list, ["reflector_ip,ip_version,description", ...rows].join("\n"));
        // A long limit: the pattern match (seconds) is still running when SIGTERM comes.
        await Deno.writeTextFile(
          `${dir}/sqm-autorate`,
          [
            "config network",
            "    option upload_interface 'vul'",
            "    option download_interface 'vdl'",
            "    option upload_base_kbits '10000'",
            "    option download_base_kbits '50000'",
            "config output",
            "    option suppress_statistics '1'",
            "config advanced_settings",
            "    option shaper 'tbf'",
            "    option lua_time_limit_ms '10000'",
            "    option lua_isolation 'worker'",
            `    option rate_controller '${dir}/hold.lua'`,
            "config plugins",
            `    list plugin_script '${dir}/spin.lua'`,
            "config spin",
            "    option length '500'",
            "",
          ].join("\n"),
        );
        // The release permission set: the worker must start without reading its own module.
        const child = new Deno.Command("ip", {
          args: [
            "netns",
            "exec",
            ns,
            ...daemonRunArgv([
              "--config",
              `${dir}/sqm-autorate`,
              "--reflector-list-file",
              list,
              "--measurement-type",
              "icmp",
              "--pinger",
              "fping",
            ]),
          ],
          cwd: ROOT,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const out = collectOutput(child);
        await out.waitFor("spin: matching 500", 50);
        assert(out.text().includes("spin: matching 500"), out.text());
        await new Promise((r) => setTimeout(r, 300)); // well inside the match
        const rateOf = async (dev: string) =>
          JSON.parse(await must("tc", ["-n", ns, "-j", "qdisc", "show", "dev", dev]))[0].options
            .rate * 8 / 1000;
        const t0 = performance.now();
        child.kill("SIGTERM");
        let dl = await rateOf("vdl");
        while (dl !== 50000 && performance.now() - t0 < 5000) dl = await rateOf("vdl");
        const took = performance.now() - t0;
        const status = await child.status;
        const output = await out.done;
        assertEquals(dl, 50000, output);
        assert(took < 1000, `exit rate after ${took.toFixed(0)} ms:\n${output}`);
        // On the daemon's thread the spinning match would have held SIGTERM for seconds.
        assert(!output.includes("Lua runs on the daemon's thread"), output);
        assert(output.includes("Loaded ratecontrol plugin: spin"), output);
        assert(output.includes("hold: calculate"), output);
        assertEquals(status.code, 0, output);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }),
});
