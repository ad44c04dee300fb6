import { assert, assertEquals } from "../util/assert.ts";
import { simulateCommand } from "./simulate_command.ts";
import { runSubcommand } from "./testing.ts";
import { ExitCode } from "../util/exit_codes.ts";

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runSubcommand((io) => simulateCommand({ io, stderrIsTerminal: false }), args);
}

Deno.test("simulate prints a summary table", async () => {
  const r = await run(["--duration", "20", "--rate-controller", "ewma"]);
  assertEquals(r.code, ExitCode.OK);
  assert(r.out.includes("trace step, load saturate, 20 s, seed 1"), r.out);
  assert(r.out.includes("ewma") && r.out.includes("p95 added delay"), r.out);
  assertEquals(r.err, "");
});

Deno.test("simulate --json --compare gives four runs with metrics", async () => {
  const r = await run([
    "--duration",
    "20",
    "--json",
    "--compare",
    "--seed",
    "3",
    "--rate-controller",
    "ewma",
  ]);
  assertEquals(r.code, ExitCode.OK);
  const runs = JSON.parse(r.out);
  assertEquals(runs.map((x: { label: string }) => x.label), [
    "ewma",
    "no shaper",
    "static",
    "oracle",
  ]);
  assertEquals(runs[0].seed, 3);
  assert(typeof runs[0].down.p95DelayMs === "number");
  assert(!("series" in runs[0]));
});

Deno.test("simulate takes setting flags (threshold, base rate)", async () => {
  const r = await run(["--duration", "10", "--json", "--download-delay-ms", "30"]);
  assertEquals(r.code, ExitCode.OK);
  assertEquals(JSON.parse(r.out)[0].down.thresholdMs, 30);
});

Deno.test("simulate --out writes stats CSV, series CSV and an SVG plot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sim_out_" });
  try {
    const r = await run(["--duration", "10", "--compare", "--out", dir]);
    assertEquals(r.code, ExitCode.OK);
    const stats = await Deno.readTextFile(`${dir}/stats.csv`);
    const lines = stats.trim().split("\n");
    assertEquals(lines[0], "times,timens,rxload,txload,deltadelaydown,deltadelayup,dlrate,uprate");
    assert(lines.length > 10, `${lines.length} stats lines`);
    assert(/^\d+,\d+,\d+\.\d{6},/.test(lines[1]), lines[1]);
    const svg = await Deno.readTextFile(`${dir}/plot.svg`);
    assert(svg.startsWith("<svg") && svg.includes("no shaper") && svg.includes("time (s)"));
    const series = await Deno.readTextFile(`${dir}/series-oracle.csv`);
    assertEquals(series.trim().split("\n").length, 101);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("simulate: an --out or --svg that cannot be written exits 73 and names it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sim_cant_" });
  try {
    // A path below a regular file cannot be made, root or not.
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "");
    const out = await run(["--duration", "5", "--out", `${file}/run`]);
    assertEquals(out.code, ExitCode.CANT_CREATE, out.err);
    assert(out.err.includes(`cannot create ${file}/run:`), out.err);
    const svg = await run(["--duration", "5", "--svg", `${file}/p.svg`]);
    assertEquals(svg.code, ExitCode.CANT_CREATE, svg.err);
    assert(svg.err.includes(`cannot write ${file}/p.svg:`), svg.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("simulate reports bad trace lines and bad flags", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sim_trace_" });
  try {
    const path = `${dir}/t.csv`;
    await Deno.writeTextFile(path, "time_s,down_kbit,up_kbit\n0,1000,100\n1,x,100\n");
    const bad = await run(["--trace", path]);
    assertEquals(bad.code, ExitCode.DATA);
    assert(bad.err.includes(`${path}:3:`), bad.err);
    const missing = await run(["--trace", `${dir}/nope.csv`]);
    assertEquals(missing.code, ExitCode.USAGE);
    assert(missing.err.includes("neither a built-in"), missing.err);
    const typo = await run(["--trace", "starlnk"]);
    assertEquals(typo.code, ExitCode.USAGE);
    assert(typo.err.includes('trace "starlnk" is not a built-in'), typo.err);
    assert(typo.err.includes('(did you mean "starlink"?)'), typo.err);
    const load = await run(["--load", "heavy"]);
    assertEquals(load.code, ExitCode.USAGE);
    assert(load.err.includes("--load"), load.err);
    const duration = await run(["--duration", "-4"]);
    assertEquals(duration.code, ExitCode.USAGE);
    const loss = await run(["--loss", "1.5"]);
    assertEquals(loss.code, ExitCode.USAGE);
    assert(loss.err.includes("--loss"), loss.err);
    const period = await run(["--trace-period", "0"]);
    assertEquals(period.code, ExitCode.USAGE);
    assert(period.err.includes("--trace-period"), period.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("simulate --trace-period repeats the step trace's drop", async () => {
  // 30 s at a 10 s period: three drops, each a capacity drop under load, where one run has one.
  const once = await run(["--duration", "30", "--json", "--rate-controller", "ewma"]);
  const thrice = await run([
    "--duration",
    "30",
    "--trace-period",
    "10",
    "--json",
    "--rate-controller",
    "ewma",
  ]);
  const drops = (out: string) => JSON.parse(out)[0].down.recoveriesS.length;
  assertEquals(drops(once.out), 1);
  assertEquals(drops(thrice.out), 3);
});

Deno.test("simulate is quiet by default and logs with --log-level", async () => {
  const quiet = await run(["--duration", "5"]);
  assertEquals(quiet.err, "");
  const loud = await run(["--duration", "5", "--log-level", "INFO"]);
  assertEquals(loud.code, ExitCode.OK);
  assert(loud.err.includes("control started"), loud.err.slice(0, 200));
});

Deno.test("simulate reads settings from --config when given, flags win", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sim_cfg_" });
  try {
    const path = `${dir}/sqm-autorate`;
    await Deno.writeTextFile(
      path,
      "config advanced_settings\n\toption download_delay_ms '25'\n\toption upload_delay_ms '20'\n",
    );
    const r = await run(["--duration", "5", "--json", "--config", path, "--upload-delay-ms", "9"]);
    assertEquals(r.code, ExitCode.OK, r.err);
    const [first] = JSON.parse(r.out);
    assertEquals([first.down.thresholdMs, first.up.thresholdMs], [25, 9]);
    const missing = await run(["--duration", "5", "--config", `${dir}/none`]);
    assertEquals(missing.code, ExitCode.CONFIG);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("simulate exits like the daemon for a broken or unknown Lua ratecontroller (65, 78)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-sim-" });
  try {
    const broken = `${dir}/broken.lua`;
    await Deno.writeTextFile(broken, "local M = {}\nfunction M.calculate(d)\n  return {\nend\n");
    const r = await run(["--duration", "5", "--rate-controller", broken]);
    assertEquals(r.code, ExitCode.DATA, r.err);
    assert(r.err.includes("broken.lua:4"), r.err);
    const unknown = await run(["--duration", "5", "--rate-controller", "EWMA"]);
    assertEquals(unknown.code, ExitCode.CONFIG, unknown.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("simulate: the testbed-like link and load flags change the run; a bad --tcp is a usage error", async () => {
  const p95 = async (extra: string[]) => {
    const r = await run(["--duration", "60", "--json", "--load", "download", ...extra]);
    assertEquals(r.code, ExitCode.OK, r.err);
    const [ewma] = JSON.parse(r.out);
    assertEquals(ewma.up.p95DelayMs, null); // `download` leaves the upload idle
    return ewma.down.p95DelayMs as number;
  };
  const base = await p95([]);
  const testbed = await p95([
    "--shaper",
    "tbf",
    "--buffer-scales",
    "--flows",
    "8",
    "--bulk-rtt-ms",
    "1",
    "--tcp",
    "reno",
  ]);
  assert(base !== testbed, `${base} vs ${testbed}`);
  const bad = await run(["--duration", "5", "--tcp", "bbr"]);
  assertEquals(bad.code, ExitCode.USAGE);
  assert(bad.err.includes("--tcp"), bad.err);
});

Deno.test("simulate --counter-scale: the controller sees less of the download; above 1 is a usage error", async () => {
  const util = async (extra: string[]) => {
    const r = await run(["--duration", "20", "--json", "--load", "download", ...extra]);
    assertEquals(r.code, ExitCode.OK, r.err);
    return JSON.parse(r.out)[0].down.utilisationPct as number;
  };
  const full = await util([]);
  assertEquals(await util(["--counter-scale", "1"]), full);
  // A counter reading half the delivery looks like a half-loaded link: the rate stays lower.
  const half = await util(["--counter-scale", "0.5"]);
  assert(half < full, `${half} vs ${full}`);
  // capacity learns the counter's ratio to a full shaper's rate (v62): a counter reading 95 %
  // costs it under half a point (without the ratio, 94.58 -> 91.92 %).
  const cap = (f: string) =>
    util(["--rate-controller", "capacity", "--trace", "cable-evening", "--counter-scale", f]);
  const capFull = await cap("1"), capLow = await cap("0.95");
  assert(capLow > capFull - 0.5, `${capLow} vs ${capFull}`);
  const bad = await run(["--duration", "5", "--counter-scale", "1.5"]);
  assertEquals(bad.code, ExitCode.USAGE);
  assert(bad.err.includes("--counter-scale"), bad.err);
});

Deno.test("simulate notes base rates far above the trace's nominal capacity, and only then", async () => {
  const far = await run(["--duration", "2", "--ub", "20000", "--db", "100000"]);
  assertEquals(far.code, ExitCode.OK);
  assert(
    far.err.includes(
      "note: the base rates (download 100000 / upload 20000 kbit/s) are 5.0 / 4.0 times the " +
        'nominal capacity of trace "step" (20000 / 5000 kbit/s)',
    ),
    far.err,
  );
  const near = await run(["--duration", "2", "--ub", "6000", "--db", "30000"]);
  assertEquals(near.code, ExitCode.OK);
  assert(!near.err.includes("note:"), near.err);
  const none = await run(["--duration", "2"]);
  assert(!none.err.includes("note:"), none.err);
});
