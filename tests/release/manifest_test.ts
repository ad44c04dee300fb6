/**
 * The daemon under exactly its permission manifest (`-P=daemon`): the probe shows what is denied
 * and allowed, and the real entry point (source and bundle) starts and checks a configuration.
 */
import { assert, assertEquals } from "../../src/util/assert.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { outsidePaths, parseProbeOutput, probeProblems } from "./probe.ts";
import { daemonRunArgs, exists, expectCode, ROOT, runDeno } from "./run_deno.ts";
import { DAEMON_RUNTIME_DIR, needs, runtimeDirSkipReason } from "../../src/util/netns_testing.ts";
import { STATS_DIR as MANIFEST_STATS_DIR } from "../../src/release/manifest.ts";
import { BUNDLE_DIR, BUNDLE_ENTRY, bundleFiles, bundleProgram } from "../../src/release/bundle.ts";

const STATS_DIR = "/tmp/sqm-autorate";

/** Removes the stats directory afterwards when this test created it. */
async function withStatsDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const existed = exists(STATS_DIR);
  const dir = `${STATS_DIR}/release-test-${Deno.pid}`;
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (!existed) await Deno.remove(STATS_DIR).catch(() => {});
  }
}

/** Runs the probe under the manifest and checks every outcome. */
async function checkProbe(script: string): Promise<void> {
  await withStatsDir(async (dir) => {
    const r = await runDeno(daemonRunArgs(script, [dir]), {
      env: { SQMA_PROBE: "1", CLICOLOR_FORCE: "1" },
    });
    expectCode(r, 0, "probe");
    const results = parseProbeOutput(r.stdout);
    assertEquals(probeProblems(results, { toolsInstalled: true }), []);
    // The denials come from the permission system, with its message.
    const shadow = results.find((p) => p.probe === "read /etc/shadow");
    assert(shadow?.detail?.includes('Requires read access to "/etc/shadow"'), shadow?.detail);
  });
}

/** The probes write their stats file into the runtime directory. */
const RUNTIME_DIR_REASON = runtimeDirSkipReason();

Deno.test(
  needs(
    "probe under -P=daemon: secrets, shell, network, env and sys denied; tools allowed",
    RUNTIME_DIR_REASON,
  ),
  async () => {
    await checkProbe("tests/release/probe.ts");
  },
);

Deno.test(
  needs("the probe's judgement catches a too-wide permission set (-P=dev)", RUNTIME_DIR_REASON),
  async () => {
    await withStatsDir(async (dir) => {
      const args = ["run", "-P=dev", "--no-prompt", "--config", `${ROOT}/deno.json`];
      const r = await runDeno([...args, "tests/release/probe.ts", dir], {
        env: { SQMA_PROBE: "1", CLICOLOR_FORCE: "1" },
      });
      expectCode(r, 0, "probe under dev");
      const problems = probeProblems(parseProbeOutput(r.stdout), { toolsInstalled: true });
      assert(problems.includes("read /etc/shadow: allowed, must be denied"), problems.join("\n"));
      assert(problems.includes("spawn sh: allowed, must be denied"), problems.join("\n"));
      assert(problems.some((p) => p.startsWith("env all shows only SQMA_*: Error: visible:")));
      assert(problems.includes("write /tmp outside stats: allowed, must be denied"), `${problems}`);
      // What the too-wide set let it write is gone again (until the twenty-ninth session every
      // run left /tmp/sqm-probe-PID.txt, and /etc/sqm-autorate/pPID where that directory exists).
      for (const path of Object.values(outsidePaths(dir))) {
        assert(!exists(path), `${path} left behind`);
      }
    });
  },
);

Deno.test("main.ts --version and --help under -P=daemon", async () => {
  const r = await runDeno(daemonRunArgs("main.ts", ["--version"]));
  expectCode(r, 0, "main.ts --version");
  assertEquals(r.stdout.trim(), `sqm-autorate ${denoJson.version}`);
  const help = await runDeno(daemonRunArgs("main.ts", ["--help"]), {
    env: { NO_COLOR: "1", CLICOLOR_FORCE: "1" },
  });
  expectCode(help, 0, "main.ts --help");
  assert(help.stdout.includes("Usage: sqm-autorate"), help.stdout);
});

Deno.test(
  needs(
    "main.ts check-config under -P=daemon: config in /etc/sqm-autorate/ accepted",
    Deno.uid() === 0 ? undefined : "writing a test config into /etc/sqm-autorate/ needs root",
  ),
  async (t) => {
    const dirExisted = exists("/etc/sqm-autorate");
    const path = `/etc/sqm-autorate/release-test-${Deno.pid}.conf`;
    try {
      await Deno.mkdir("/etc/sqm-autorate", { recursive: true });
      await Deno.copyFile(`${ROOT}/packaging/openwrt/sqm-autorate.config`, path);
      await t.step("the shipped default config passes", async () => {
        const r = await runDeno(daemonRunArgs("main.ts", ["check-config", "--config", path]));
        expectCode(r, 0, "check-config");
        assert(r.stderr.includes("configuration OK"), r.stderr);
        assert(r.stdout.includes(path), "sources name the config file");
        // Its base rates are placeholders an owner must edit (src/config/placeholder_rates.ts).
        for (const option of ["upload_base_kbits", "download_base_kbits"]) {
          const named = `${path}:\\d+ \\(@network\\[0\\]\\.${option}\\)\\): 10000 kbit/s is still`;
          assert(new RegExp(`warning: base_.._rate \\(${named}`).test(r.stderr), r.stderr);
        }
      });
      await t.step("SQMA_* env values are read", async () => {
        const r = await runDeno(daemonRunArgs("main.ts", ["check-config", "--config", path]), {
          env: { SQMA_UPLOAD_BASE_KBITS: "12345" },
        });
        expectCode(r, 0, "check-config with env");
        assert(/base_ul_rate\s+12345\s+env SQMA_UPLOAD_BASE_KBITS/.test(r.stdout), r.stdout);
      });
    } finally {
      await Deno.remove(path).catch(() => {});
      if (!dirExisted) await Deno.remove("/etc/sqm-autorate").catch(() => {});
    }
  },
);

Deno.test("main.ts check-config under -P=daemon: config outside allowed paths fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-release-" });
  try {
    const path = `${dir}/sqm-autorate`;
    await Deno.copyFile(`${ROOT}/packaging/openwrt/sqm-autorate.config`, path);
    const r = await runDeno(daemonRunArgs("main.ts", ["check-config", "--config", path]));
    assert(r.code !== 0, "an unreadable config must not pass");
    assert(r.stderr.includes(path), r.stderr);
    assert(r.stderr.includes("/etc/sqm-autorate/"), "names where to put it: " + r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts check-config under -P=daemon: stats file outside the manifest rejected", async () => {
  const env = {
    SQMA_UPLOAD_INTERFACE: "wan",
    SQMA_DOWNLOAD_INTERFACE: "ifb4wan",
    SQMA_UPLOAD_BASE_KBITS: "20000",
    SQMA_DOWNLOAD_BASE_KBITS: "100000",
    SQMA_STATS_FILE: "/var/log/sqm.csv",
  };
  const r = await runDeno(daemonRunArgs("main.ts", ["check-config"]), { env });
  assert(r.code !== 0, "must fail");
  assert(
    r.stderr.includes("/var/log/sqm.csv") && r.stderr.includes("/tmp/sqm-autorate/"),
    r.stderr,
  );
});

Deno.test("main.ts plot and simulate under -P=daemon: a denied path names the permission set, not a flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-release-" });
  try {
    const plot = await runDeno(
      daemonRunArgs("main.ts", ["plot", `${dir}/stats.csv`, "--out", `${dir}/p.svg`]),
    );
    expectCode(plot, 65, "plot");
    const sim = await runDeno(
      daemonRunArgs("main.ts", ["simulate", "--duration", "5", "--out", `${dir}/sim`]),
    );
    expectCode(sim, 73, "simulate --out");
    const trace = await runDeno(
      daemonRunArgs("main.ts", ["simulate", "--duration", "5", "--trace", `${dir}/t.csv`]),
    );
    expectCode(trace, 64, "simulate --trace");
    for (const r of [plot, sim, trace]) {
      assert(!r.stderr.includes("--allow-"), r.stderr); // the binary takes no such flag
      assert(r.stderr.includes("docs/install.md"), r.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts simulate --duration 5 under -P=daemon", async () => {
  const r = await runDeno(daemonRunArgs("main.ts", ["simulate", "--duration", "5"]));
  expectCode(r, 0, "simulate");
  assert(r.stdout.trim().length > 0, "prints a summary");
});

Deno.test("deno task bundle: the bundle runs under exactly the manifest", async (t) => {
  const b = await runDeno(["task", "bundle"]);
  expectCode(b, 0, "deno task bundle");
  const bundle = `${ROOT}/${BUNDLE_ENTRY}`;
  // Statically resolved: no import of project files or npm packages is left to resolve, only
  // the bundle's own chunks, side by side (imported without a read grant).
  const files = bundleFiles(`${ROOT}/${BUNDLE_DIR}`);
  for (const f of files) {
    const text = await Deno.readTextFile(`${ROOT}/${BUNDLE_DIR}/${f}`);
    const specifiers = [
      ...text.matchAll(
        /(?:\bfrom|\bimport)\s*\(?\s*(["'])((?:\.{1,2}\/|\/|npm:|jsr:|https?:|file:)[^"'\s]*)\1/g,
      ),
    ].map((m) => m[2]);
    assert(f !== "main.js" || specifiers.length > 0, "main.js imports no chunk");
    const outside = specifiers.filter((s) =>
      !/^\.\/[\w-]+\.js$/.test(s) || !files.includes(s.slice(2))
    );
    assertEquals(outside, [], `${f} imports modules outside the bundle`);
  }
  await t.step("--version", async () => {
    const r = await runDeno(daemonRunArgs(bundle, ["--version"]));
    expectCode(r, 0, "bundle --version");
    assertEquals(r.stdout.trim(), `sqm-autorate ${denoJson.version}`);
  });
  await t.step("check-config with env settings", async () => {
    const r = await runDeno(daemonRunArgs(bundle, ["check-config"]), {
      env: {
        SQMA_UPLOAD_INTERFACE: "wan",
        SQMA_DOWNLOAD_INTERFACE: "ifb4wan",
        SQMA_UPLOAD_BASE_KBITS: "20000",
        SQMA_DOWNLOAD_BASE_KBITS: "100000",
      },
    });
    expectCode(r, 0, "bundle check-config");
    assert(r.stderr.includes("configuration OK"), r.stderr);
  });
  await t.step("simulate --duration 5", async () => {
    const r = await runDeno(daemonRunArgs(bundle, ["simulate", "--duration", "5"]));
    expectCode(r, 0, "bundle simulate");
    assert(r.stdout.trim().length > 0, "prints a summary");
  });
  await t.step("--help with colour env vars set (ignored, not fatal)", async () => {
    const r = await runDeno(daemonRunArgs(bundle, ["--help"]), { env: { FORCE_COLOR: "1" } });
    expectCode(r, 0, "bundle --help");
    assert(r.stdout.includes("simulate") && r.stdout.includes("check-config"), r.stdout);
  });
});

Deno.test("Lua engine (embedded wasm) loads under -P=daemon, from source and bundled", async () => {
  const source = await runDeno(daemonRunArgs("tests/release/lua_probe.ts"));
  expectCode(source, 0, "lua probe from source");
  assertEquals(source.stdout.trim(), "lua ok");
  const dir = await Deno.makeTempDir({ prefix: "sqma-lua-bundle-" });
  try {
    // Bundled as the program is: the engine, its payloads and the worker's script are chunks
    // loaded on first use.
    const out = await bundleProgram({ entry: `${ROOT}/tests/release/lua_probe.ts`, outdir: dir });
    assert(bundleFiles(dir).some((f) => f.startsWith("glue_wasm-")), bundleFiles(dir).join());
    const bundled = await runDeno(daemonRunArgs(out));
    expectCode(bundled, 0, "bundled lua probe");
    assertEquals(bundled.stdout.trim(), "lua ok");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the netns tests' daemon directory is the one the release manifest lets it write", () => {
  assertEquals(DAEMON_RUNTIME_DIR, MANIFEST_STATS_DIR);
});
