/**
 * The daemon started as the shipped service files start it (the OpenWrt init script's procd
 * parameters, the systemd unit's `Environment=` and `ExecStart=`), under the release permission
 * set against real `tc` and fping in a throw-away network namespace, shows each log line's syslog
 * priority the way that service manager reads it: under procd DEBUG and INFO on stdout (logged at
 * `daemon.info`) and WARN and up on stderr (`daemon.err`); under systemd a `<N>` prefix on each
 * line (journald files the line at N). Before, every line went to stderr, so `logread` showed the
 * INFO lines as `daemon.err` (docs/install.md, "OpenWrt with a glibc userland (procd)").
 */
import { assert, assertEquals } from "../../src/util/assert.ts";
import { ExitCode } from "../../src/util/exit_codes.ts";
import {
  addTbfVethPair,
  collectText,
  daemonRuntimeDir,
  daemonUci,
  needs,
  netnsSkipReason,
  spawnDaemonInNetns,
  untilControlStarted,
  withNetns,
} from "../../src/util/netns_testing.ts";

import { daemonRunArgs, runDeno } from "./run_deno.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const reason = await netnsSkipReason();

/** How a service file starts the daemon: its arguments (after the binary) and environment. */
interface ServiceStart {
  args: string[];
  env: Record<string, string>;
}

/** `KEY=VALUE` words as an environment. */
function envOf(words: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    words.map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]),
  );
}

/**
 * The init script's `start_service` run with procd's functions stubbed (they print the
 * parameters) and `use_syslog '1'`: its command and env, after checking that it hands both
 * streams to procd.
 */
async function procdStart(): Promise<ServiceStart> {
  const script = '. "$1"; uci() { echo 1; }; procd_open_instance() { :; }; ' +
    "procd_close_instance() { :; }; procd_set_param() { printf '%s\\n' \"$*\"; }; start_service";
  const out = await new Deno.Command("sh", {
    args: ["-c", script, "sh", `${ROOT}packaging/openwrt/sqm-autorate.init`],
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const params = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => l.split(" "));
  const param = (name: string) => params.filter((p) => p[0] === name).flatMap((p) => p.slice(1));
  assertEquals(param("stdout"), ["1"]);
  assertEquals(param("stderr"), ["1"]);
  return { args: param("command").slice(1), env: envOf(param("env")) };
}

/** The systemd unit's `ExecStart=` arguments and `Environment=` values. */
function systemdStart(): ServiceStart {
  const unit = Deno.readTextFileSync(`${ROOT}packaging/systemd/sqm-autorate.service`).split("\n");
  const values = (key: string) =>
    unit.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim());
  return {
    args: values("ExecStart").flatMap((v) => v.split(" ").slice(1)),
    env: envOf(values("Environment").flatMap((v) => v.split(" "))),
  };
}

/**
 * Runs the daemon as `start` says, on a configuration in `ns` that logs a WARN at its start (8
 * reflectors wanted, 6 listed) and the owner's `log_priority` option if given, until it logged
 * `control started`; stops it with SIGTERM. Resolves to its exit code, stdout and stderr.
 */
async function runAsService(
  ns: string,
  start: ServiceStart,
  options: { logPriority?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  await addTbfVethPair(ns, "vpdl", "vpul");
  const dir = await daemonRuntimeDir("logprio-");
  const config = `${dir}/sqm-autorate`;
  const owner = options.logPriority === undefined
    ? ""
    : `\n\toption log_priority '${options.logPriority}'`;
  await Deno.writeTextFile(
    config,
    daemonUci(dir, { ul: "vpul", dl: "vpdl", dlBaseKbits: 50000 })
      .replace("config advanced_settings", "config advanced_settings\n\toption num_reflectors '8'")
      .replace("config output", `config output${owner}`),
  );
  const args = start.args.map((a) => a === "/etc/config/sqm-autorate" ? config : a);
  assertEquals(args, ["run", "--config", config]);
  const child = spawnDaemonInNetns(ns, args, { env: start.env, stdout: "piped" });
  const stdout = collectText(child.stdout);
  const stderr = collectText(child.stderr);
  try {
    const both = () => stdout.log() + stderr.log();
    await untilControlStarted(both);
    child.kill("SIGTERM");
    const { code } = await child.status;
    await stdout.done;
    await stderr.done;
    return { code, stdout: stdout.log(), stderr: stderr.log() };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The daemon's log lines in `text` (the runtime's own `Info …` lines left out). */
function logLines(text: string): string[] {
  return text.split("\n").filter((l) => /^(<\d>)?\[[A-Z]+ - /.test(l));
}

/** The level of each line, with its prefix if any: `<6>INFO`, `WARN`, … (distinct, in order). */
function levels(lines: readonly string[]): string[] {
  return [...new Set(lines.map((l) => l.replace(/^(<\d>)?\[([A-Z]+) - .*$/, "$1$2")))];
}

Deno.test({
  ...needs(
    "daemon started as the OpenWrt init script starts it: INFO on stdout (daemon.info), WARN on " +
      "stderr (daemon.err)",
    reason,
  ),
  fn: () =>
    withNetns("sqma-procd", async (ns) => {
      const { code, stdout, stderr } = await runAsService(ns, await procdStart());
      const both = `stdout:\n${stdout}\nstderr:\n${stderr}`;
      assertEquals(code, ExitCode.OK, both);
      assertEquals(levels(logLines(stdout)), ["INFO"], both);
      assertEquals(levels(logLines(stderr)), ["WARN"], both);
      assert(stdout.includes("Starting sqm-autorate"), both);
      assert(stdout.includes("control started"), both);
      assert(stderr.includes("fewer than num_reflectors (8)"), both);
    }),
});

Deno.test({
  ...needs(
    "daemon started as the systemd unit starts it: each line on stderr with its syslog priority " +
      "(<6> INFO, <4> WARN) for journald",
    reason,
  ),
  fn: () =>
    withNetns("sqma-journal", async (ns) => {
      const { code, stdout, stderr } = await runAsService(ns, systemdStart());
      const both = `stdout:\n${stdout}\nstderr:\n${stderr}`;
      assertEquals(code, ExitCode.OK, both);
      assertEquals(stdout, "", both);
      assertEquals(levels(logLines(stderr)).sort(), ["<4>WARN", "<6>INFO"], both);
      assert(/^<4>\[WARN - .*fewer than num_reflectors \(8\)/m.test(stderr), both);
    }),
});

Deno.test({
  ...needs(
    "the owner's UCI log_priority wins over the one the init script and the unit set (every " +
      "line plain on stderr with 'none')",
    reason,
  ),
  fn: async () => {
    // Before, the service files set SQMA_LOG_PRIORITY, which beats the file: INFO came on stdout
    // under procd and with <6> under systemd whatever the owner wrote.
    for (const [name, start] of [["procd", await procdStart()], ["systemd", systemdStart()]]) {
      await withNetns(`sqma-own-${name}`, async (ns) => {
        const { code, stdout, stderr } = await runAsService(ns, start as ServiceStart, {
          logPriority: "none",
        });
        const both = `${name}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
        assertEquals(code, ExitCode.OK, both);
        assertEquals(logLines(stdout), [], both);
        assertEquals(levels(logLines(stderr)).sort(), ["INFO", "WARN"], both);
      });
    }
  },
});

Deno.test("started as the systemd unit starts it, the command line's errors before logging starts carry <3> for journald", async () => {
  // Before, they had no prefix and journald filed them at info (src/cli/early_errors.ts).
  const { args, env } = systemdStart();
  const missing = `/etc/sqm-autorate/no-such-${crypto.randomUUID()}.conf`;
  const own = args.map((a) => a === "/etc/config/sqm-autorate" ? missing : a);
  for (
    const [argv, code] of [[own, ExitCode.CONFIG], [
      [...own, "--no-such-flag"],
      ExitCode.USAGE,
    ]] as const
  ) {
    const r = await runDeno(daemonRunArgs("main.ts", [...argv]), { env });
    assertEquals(r.code, code, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => l !== "" && !/^\S*(Warning|Info)\S* /.test(l));
    assert(lines.length > 0, r.stderr);
    assertEquals(lines.filter((l) => !l.startsWith("<3>")), [], r.stderr);
  }
});
