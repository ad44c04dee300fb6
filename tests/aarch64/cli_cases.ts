/**
 * The bundled program on aarch64 Deno (under qemu-user on x86_64) with exactly the binary's
 * permission set and V8 flags, next to the same run on this machine's Deno: the same exit code and the same
 * output wherever the program is deterministic (`simulate --json` with a fixed seed prints the
 * same figures), the Lua engine's wasm included, and the same permission denials.
 * Prints `metric aarch64_bundle_startup_ms` and `metric aarch64_sim_seconds` (trend only: the
 * emulator on a shared machine).
 */
import { assert, assertEquals } from "../../src/util/assert.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { parseProbeOutput, probeProblems } from "../release/probe.ts";
import { binaryRunArgs, exists, ROOT, runDeno, type RunResult } from "../release/run_deno.ts";
import { aarch64Test, runAarch64, SETUP } from "./setup.ts";

/** Simulated seconds: short, the emulator is slow and the machine is shared. */
const SIM = ["simulate", "--json", "--seed", "7", "--duration", "30"];

/** One invocation run on both Denos. */
interface Case {
  /** Test name. */
  readonly name: string;
  /** Which file runs: the program or the permission probe. */
  readonly script?: "bundle" | "probe";
  /** Program arguments. */
  readonly args: readonly string[];
  /** Extra environment (SQMA_* reaches the program; the rest is ignored by the manifest). */
  readonly env?: Record<string, string>;
  /** Why it cannot run here, if so. */
  readonly ignore?: string;
  /** Checks on the aarch64 run (the x86_64 run must already agree with it). */
  readonly check: (r: RunResult, wallMs: number) => void;
}

/** An allowed config location (root only: /etc/sqm-autorate/ is the daemon's read directory). */
const ETC_CONFIG = `/etc/sqm-autorate/aarch64-test-${Deno.pid}.conf`;
/** The probe's stats round trip happens below the daemon's stats directory. */
const STATS_DIR = "/tmp/sqm-autorate";

function metric(name: string, value: number, unit: string): void {
  console.log(`metric ${name} ${value} ${unit}`);
}

function refused(path: string, advice: string) {
  return (r: RunResult) => {
    assert(r.code !== 0, `must be refused: ${r.stderr}`);
    assert(r.stderr.includes(path) && r.stderr.includes(advice), r.stderr);
  };
}

function simulated(label: RegExp) {
  return (r: RunResult) => {
    const runs = JSON.parse(r.stdout) as { label: string; utilisationPct: number }[];
    assertEquals(runs.length, 1, r.stdout);
    assert(label.test(runs[0].label), `label ${runs[0].label}`);
    assert(runs[0].utilisationPct > 0, r.stdout);
  };
}

const CASES: readonly Case[] = [
  {
    name: "--version",
    args: ["--version"],
    check: (r, ms) => {
      assertEquals(r.stdout.trim(), `sqm-autorate ${denoJson.version}`);
      metric("aarch64_bundle_startup_ms", Math.round(ms), "ms");
    },
  },
  {
    name: "--help (colour probes ignored)",
    args: ["--help"],
    env: { FORCE_COLOR: "1" },
    check: (r) => assert(r.stdout.includes("check-config") && r.stdout.includes("simulate")),
  },
  {
    name: "check-config on the shipped example config in /etc/sqm-autorate/",
    args: ["check-config", "--config", ETC_CONFIG],
    ignore: Deno.uid() === 0 ? undefined : "writing into /etc/sqm-autorate/ needs root",
    check: (r) => {
      assertEquals(r.code, 0, r.stderr);
      assert(r.stderr.includes("configuration OK"), r.stderr);
      assert(r.stdout.includes(ETC_CONFIG), "sources name the config file");
    },
  },
  {
    name: "check-config refuses a config outside the manifest",
    args: ["check-config", "--config", `${ROOT}/packaging/openwrt/sqm-autorate.config`],
    check: refused(`${ROOT}/packaging/openwrt/sqm-autorate.config`, "/etc/sqm-autorate/"),
  },
  {
    // Refused or warned about, as check-config's policy says; the exit code must match x86_64's.
    name: "check-config names a stats file outside the manifest and where to put it",
    args: ["check-config"],
    env: {
      SQMA_UPLOAD_INTERFACE: "wan",
      SQMA_DOWNLOAD_INTERFACE: "ifb4wan",
      SQMA_UPLOAD_BASE_KBITS: "20000",
      SQMA_DOWNLOAD_BASE_KBITS: "100000",
      SQMA_STATS_FILE: "/var/log/sqm.csv",
    },
    check: (r) => {
      assert(r.stderr.includes("/var/log/sqm.csv"), r.stderr);
      assert(r.stderr.includes("/tmp/sqm-autorate/"), r.stderr);
    },
  },
  {
    name: "permission probe: secrets, shell, network, env and sys denied; tools allowed",
    script: "probe",
    args: [`${STATS_DIR}/aarch64-probe-${Deno.pid}`],
    env: { SQMA_PROBE: "1", CLICOLOR_FORCE: "1" },
    check: (r) => {
      assertEquals(r.code, 0, r.stderr);
      const results = parseProbeOutput(r.stdout);
      assertEquals(probeProblems(results, { toolsInstalled: true }), []);
      const shadow = results.find((p) => p.probe === "read /etc/shadow");
      assert(shadow?.detail?.includes('Requires read access to "/etc/shadow"'), shadow?.detail);
    },
  },
  {
    name: "simulate --json with EWMA",
    args: [...SIM, "--rate-controller", "ewma"],
    check: simulated(/ewma/),
  },
  {
    name: "simulate --json with the default controller",
    args: SIM,
    check: (r, ms) => {
      simulated(/./)(r);
      metric("aarch64_sim_seconds", Number((ms / 1000).toFixed(1)), "s");
    },
  },
  {
    // The per-call Lua time limit is wall time; the emulator needs far more than the default.
    name: "simulate --json with a Lua ratecontroller and a Lua plugin (wasm on aarch64)",
    args: [
      ...SIM,
      "--rate-controller",
      "builtin:ewma",
      "--plugin-scripts",
      "builtin:delay_tuner",
      "--lua-time-limit-ms",
      "10000",
    ],
    check: simulated(/lua.*delay_tuner/),
  },
];

/** What must agree between the two machines: the exit code and stdout (probe: the outcomes). */
function comparable(c: Case, r: RunResult): unknown {
  if (c.script !== "probe") return { code: r.code, stdout: r.stdout };
  return { code: r.code, outcomes: parseProbeOutput(r.stdout).map((p) => [p.probe, p.outcome]) };
}

/** Creates what a case needs, runs `fn`, and removes what it created. */
async function withCaseFiles<T>(fn: () => Promise<T>): Promise<T> {
  const etcExisted = exists("/etc/sqm-autorate");
  const statsExisted = exists(STATS_DIR);
  try {
    if (Deno.uid() === 0) {
      await Deno.mkdir("/etc/sqm-autorate", { recursive: true });
      await Deno.copyFile(`${ROOT}/packaging/openwrt/sqm-autorate.config`, ETC_CONFIG);
    }
    return await fn();
  } finally {
    await Deno.remove(ETC_CONFIG).catch(() => {});
    await Deno.remove(`${STATS_DIR}/aarch64-probe-${Deno.pid}`, { recursive: true }).catch(
      () => {},
    );
    if (!etcExisted) await Deno.remove("/etc/sqm-autorate").catch(() => {});
    if (!statsExisted) await Deno.remove(STATS_DIR).catch(() => {});
  }
}

for (const c of CASES) {
  Deno.test({
    ...aarch64Test(`aarch64 bundle under -P=daemon: ${c.name}`, c.ignore),
    fn: () =>
      withCaseFiles(async () => {
        const setup = SETUP!;
        const file = c.script === "probe" ? setup.probe : setup.bundle;
        const args = binaryRunArgs(file, [...c.args]);
        const native = await runDeno(args, { env: c.env });
        const started = performance.now();
        const arm = await runAarch64(setup, args, { env: c.env });
        const wallMs = performance.now() - started;
        c.check(arm, wallMs);
        assertEquals(
          comparable(c, arm),
          comparable(c, native),
          `aarch64 and ${Deno.build.arch} differ\n--- aarch64 stderr\n${arm.stderr}`,
        );
      }),
  });
}
