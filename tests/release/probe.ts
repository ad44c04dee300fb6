/**
 * Permission probe: run under the daemon manifest (`deno run -P=daemon --config deno.json
 * tests/release/probe.ts`), it attempts what the daemon must and must not be able to do and prints
 * one JSON line per attempt: `{"probe": name, "outcome": "allowed" | "denied" | "error", ...}`.
 * "denied" means Deno refused with NotCapable/PermissionDenied; "error" is any other failure (a
 * missing file, a tool exiting non-zero), which still proves the permission check passed.
 *
 * Nothing here sends traffic: the connect target is 127.0.0.1 and the permission check refuses
 * it before a socket exists; the tools run with `-V`/`-v` only.
 */

/** One probe's result. */
export interface ProbeResult {
  /** What was attempted. */
  probe: string;
  /** allowed: it worked; denied: permission refused; error: failed for another reason. */
  outcome: "allowed" | "denied" | "error";
  /** Error name and message for denied/error. */
  detail?: string;
}

/** Probes the manifest must deny. */
export const MUST_BE_DENIED: readonly string[] = [
  "read /etc/shadow",
  "read /etc/passwd",
  "write /tmp outside stats",
  "write /etc/sqm-autorate",
  "spawn sh",
  "spawn /bin/sh",
  "spawn deno",
  "connect tcp 127.0.0.1",
  "listen tcp 127.0.0.1",
  "fetch http://127.0.0.1",
  "env HOME",
  "sys hostname",
  "read /proc/net/dev",
  "ffi dlopen",
];

/** Probes that must fully work. */
export const MUST_BE_ALLOWED: readonly string[] = [
  "env SQMA_PROBE",
  "env CLICOLOR_FORCE reads as unset",
  "env all shows only SQMA_*",
  "stats file write+rotate",
  "read /etc/config/sqm-autorate",
  "spawn tc",
  "spawn ip",
  "spawn fping",
  "spawn ping",
  "spawn /usr/sbin/tc",
];

/**
 * What is wrong with a probe run (empty = as expected). Tools that are not installed fail with
 * NotFound ("error"), which still shows the grant; `toolsInstalled` demands a real spawn.
 */
export function probeProblems(
  results: readonly ProbeResult[],
  options: { toolsInstalled: boolean },
): string[] {
  const byName = new Map(results.map((r) => [r.probe, r]));
  const problems: string[] = [];
  for (const name of MUST_BE_DENIED) {
    const r = byName.get(name);
    if (r === undefined) problems.push(`${name}: did not run`);
    else if (r.outcome !== "denied") problems.push(`${name}: ${r.outcome}, must be denied`);
    else if (!/NotCapable|PermissionDenied/.test(r.detail ?? "")) {
      problems.push(`${name}: denied by ${r.detail}, not by the permission system`);
    }
  }
  for (const name of MUST_BE_ALLOWED) {
    const r = byName.get(name);
    const strict = options.toolsInstalled || !name.startsWith("spawn ");
    if (r === undefined) problems.push(`${name}: did not run`);
    else if (r.outcome === "denied") problems.push(`${name}: denied (${r.detail})`);
    else if (strict && r.outcome !== "allowed") problems.push(`${name}: ${r.detail}`);
  }
  return problems;
}

/** Parses the probe's JSON lines. */
export function parseProbeOutput(stdout: string): ProbeResult[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
}

async function attempt(probe: string, fn: () => unknown): Promise<ProbeResult> {
  try {
    await fn();
    return { probe, outcome: "allowed" };
  } catch (e) {
    const err = e as Error;
    return {
      probe,
      outcome: isPermissionError(e) ? "denied" : "error",
      detail: `${err.name}: ${err.message}`,
    };
  }
}

async function spawn(cmd: string, args: string[]): Promise<void> {
  await new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).output();
}

/**
 * The files the probe must not be able to write, named after `statsDir` so a test can look for
 * them; a set that lets the probe write them (`-P=dev`) gets them removed again.
 */
export function outsidePaths(statsDir: string): { tmp: string; etc: string } {
  const tag = statsDir.split("/").filter((p) => p !== "").pop() ?? "probe";
  return { tmp: `/tmp/sqm-probe-${tag}.txt`, etc: `/etc/sqm-autorate/p-${tag}` };
}

async function writeAndRemove(path: string): Promise<void> {
  await Deno.writeTextFile(path, "x");
  // Reached only where the write was allowed: leave nothing behind (each run left one per pid).
  await Deno.remove(path);
}

/** Runs every probe; `statsDir` is where the allowed stats-file round trip happens. */
export async function runProbes(statsDir: string): Promise<ProbeResult[]> {
  const pid = Deno.pid;
  const statsFile = `${statsDir}/probe-${pid}.csv`;
  const results: ProbeResult[] = [];
  const add = async (probe: string, fn: () => unknown) => results.push(await attempt(probe, fn));

  // Must be denied.
  await add("read /etc/shadow", () => Deno.readTextFile("/etc/shadow"));
  await add("read /etc/passwd", () => Deno.readTextFile("/etc/passwd"));
  await add("write /tmp outside stats", () => writeAndRemove(outsidePaths(statsDir).tmp));
  await add("write /etc/sqm-autorate", () => writeAndRemove(outsidePaths(statsDir).etc));
  await add("spawn sh", () => spawn("sh", ["-c", "true"]));
  await add("spawn /bin/sh", () => spawn("/bin/sh", ["-c", "true"]));
  await add("spawn deno", () => spawn(Deno.execPath(), ["--version"]));
  await add("connect tcp 127.0.0.1", () => Deno.connect({ hostname: "127.0.0.1", port: 9 }));
  await add("listen tcp 127.0.0.1", () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  await add("fetch http://127.0.0.1", () => fetch("http://127.0.0.1:65000/"));
  await add("env HOME", () => Deno.env.get("HOME"));
  await add("sys hostname", () => Deno.hostname());
  await add("read /proc/net/dev", () => Deno.readTextFile("/proc/net/dev"));
  await add("ffi dlopen", () => Deno.dlopen("libc.so.6", {}));

  // Must be allowed.
  await add("env SQMA_PROBE", () => {
    if (Deno.env.get("SQMA_PROBE") === undefined) throw new Error("SQMA_PROBE not visible");
  });
  // Ignored, not granted: the caller sets CLICOLOR_FORCE, yet the daemon must see it as unset.
  // (NO_COLOR is no test: Deno lets every program read it.)
  await add("env CLICOLOR_FORCE reads as unset", () => {
    const v = Deno.env.get("CLICOLOR_FORCE");
    if (v !== undefined) throw new Error(`CLICOLOR_FORCE is visible: ${v}`);
  });
  // The whole environment is either refused or shows nothing but SQMA_* (and NO_COLOR).
  await add("env all shows only SQMA_*", () => {
    let names: string[];
    try {
      names = Object.keys(Deno.env.toObject());
    } catch (e) {
      if (isPermissionError(e)) return;
      throw e;
    }
    const leaked = names.filter((n) => !n.startsWith("SQMA_") && n !== "NO_COLOR");
    if (leaked.length > 0) throw new Error(`visible: ${leaked.join(", ")}`);
  });
  await add("stats file write+rotate", async () => {
    await Deno.mkdir(statsDir, { recursive: true });
    await Deno.writeTextFile(statsFile, "a\n");
    await Deno.writeTextFile(statsFile, "b\n", { append: true });
    await Deno.stat(statsFile);
    await Deno.rename(statsFile, `${statsFile}.1`);
    await Deno.remove(`${statsFile}.1`);
    await Deno.remove(statsDir);
  });
  await add("read /etc/config/sqm-autorate", async () => {
    try {
      await Deno.readTextFile("/etc/config/sqm-autorate");
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e; // absent is fine: the check passed
    }
  });
  await add("spawn tc", () => spawn("tc", ["-V"]));
  await add("spawn ip", () => spawn("ip", ["-V"]));
  await add("spawn fping", () => spawn("fping", ["-v"]));
  await add("spawn ping", () => spawn("ping", ["-V"]));
  await add("spawn /usr/sbin/tc", () => spawn("/usr/sbin/tc", ["-V"]));
  return results;
}

if (import.meta.main) {
  if (Deno.args[0] === "--check") {
    // `probe.ts --check FILE`: judge a saved run (e.g. of the compiled probe in the release
    // workflow); exit 1 with the problems listed.
    const results = parseProbeOutput(await Deno.readTextFile(Deno.args[1]));
    const problems = probeProblems(results, { toolsInstalled: true });
    for (const p of problems) console.error(`probe: ${p}`);
    console.error(problems.length === 0 ? "probe: as expected" : "probe: FAILED");
    Deno.exit(problems.length === 0 ? 0 : 1);
  }
  const statsDir = Deno.args[0] ?? `/tmp/sqm-autorate/probe-${Deno.pid}`;
  for (const r of await runProbes(statsDir)) console.log(JSON.stringify(r));
}
