/**
 * Memory of the daemon's long-lived helper processes while they run (docs/footprint.md, "Helpers
 * over months"):
 *
 * - `tc -batch`, which makes the rate changes: real `tc` in a throw-away network namespace, 3000
 *   TBF rate changes through the daemon's shaper, once with one coprocess for all of them and once
 *   as the daemon runs it (a fresh coprocess every `TC_CHANGES_PER_PROCESS` changes); tc's resident
 *   memory is read from /proc after every 100 changes.
 * - fping, the default pinger: the daemon's fping command line for five loopback reflectors at 100
 *   probes a second each (fifty times the default rate), its resident memory read at 2 s and 22 s.
 *
 * Needs root, iproute2 and fping (each part says why it skipped otherwise); run with -A (Deno reads
 * /proc only then).
 *
 *   deno run -A bench/helper_memory.ts [--changes N]
 *
 * Ends with `metric tc_batch_growth_kb_per_1000_changes_one_process`, `tc_batch_peak_rss_mb`,
 * `tc_batch_peak_rss_mb_one_process`, `fping_growth_bytes_per_probe` and
 * `fping_growth_mb_per_process` (that growth over `PINGER_MAX_AGE_S` at the default probe rate).
 */
import { createShaperPair } from "../src/apply/shaper.ts";
import { TcBatch } from "../src/apply/tc_batch.ts";
import { denoSpawner, type ProcessSpawner } from "../src/util/coprocess.ts";
import { addTbfVethPair, netnsSkipReason, withNetns } from "../src/util/netns_testing.ts";
import { parseProcStat } from "./_proc_usage.ts";
import { argValue, exitOnHelp } from "./_args.ts";
import { fpingArgs } from "../src/measure/backends.ts";
import { PINGER_MAX_AGE_S } from "../src/measure/pinger.ts";
import { settingsWithDefaults } from "../src/config/defaults.ts";

exitOnHelp(import.meta.url);

const SAMPLE_EVERY = 100;

/** tc's resident set, bytes, or undefined once it has exited. */
function rssOf(pid: number): number | undefined {
  try {
    return parseProcStat(Deno.readTextFileSync(`/proc/${pid}/stat`))?.rssBytes;
  } catch {
    return undefined;
  }
}

/** Runs `changes` changes; tc's RSS after every SAMPLE_EVERY of them, and the starts. */
async function run(
  ns: string,
  options: { changes: number; changesPerProcess?: number },
): Promise<{ rss: number[]; starts: number }> {
  let pid = 0;
  const spawn: ProcessSpawner = (argv) => {
    const p = denoSpawner(argv);
    pid = p.pid;
    return p;
  };
  const batch = new TcBatch({
    command: ["tc", "-n", ns],
    spawn,
    changesPerProcess: options.changesPerProcess,
  });
  const pair = createShaperPair(
    { shaper: "tbf", dl_if: "vdl", ul_if: "vul", htb_classid: "1:1" },
    { netns: ns, batch },
  );
  const rss: number[] = [];
  try {
    await pair.dl.check();
    for (let i = 1; i <= options.changes; i++) {
      await pair.dl.setRate(10_000 + (i % 1000) * 10);
      if (i % SAMPLE_EVERY === 0) rss.push(rssOf(pid) ?? 0);
    }
  } finally {
    await pair.close?.();
  }
  return { rss, starts: batch.starts };
}

/** fping's growth per probe (bytes), from its RSS at 2 s and 22 s of five targets at 100/s. */
async function fpingGrowth(): Promise<number | undefined> {
  const targets = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
  const tickS = 0.01;
  const { args } = fpingArgs(targets, {
    tickS,
    mode: "echo",
    features: { icmpTimestamp: false, fwmark: false },
  });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("fping", { args, stdout: "null", stderr: "null" }).spawn();
  } catch (e) {
    console.log(`fping: skipped (${String(e)})`);
    return undefined;
  }
  const wait = (s: number) => new Promise((r) => setTimeout(r, s * 1000));
  await wait(2);
  const before = rssOf(child.pid) ?? 0;
  await wait(20);
  const after = rssOf(child.pid) ?? 0;
  child.kill();
  await child.status;
  const probes = targets.length / tickS * 20;
  console.log(
    `fping: ${(before / 1024).toFixed(0)} kB at 2 s, ${(after / 1024).toFixed(0)} kB at 22 s`,
  );
  return (after - before) / probes;
}

const perProbe = await fpingGrowth();
if (perProbe !== undefined) {
  const s = settingsWithDefaults();
  const probesPerS = s.num_reflectors / s.tick_interval;
  const perProcessMb = perProbe * probesPerS * PINGER_MAX_AGE_S / 2 ** 20;
  console.log(`metric fping_growth_bytes_per_probe ${perProbe.toFixed(1)} B`);
  console.log(`metric fping_growth_mb_per_process ${perProcessMb.toFixed(2)} MB`);
}

const skip = await netnsSkipReason();
if (skip !== undefined) {
  console.log(`tc: skipped (${skip})`);
  Deno.exit(0);
}
const changes = Number(argValue("--changes") ?? 3000);
if (!Number.isInteger(changes) || changes < 2 * SAMPLE_EVERY) {
  throw new Error(`helper_memory: --changes wants a whole number of at least ${2 * SAMPLE_EVERY}`);
}

await withNetns("sqma-tcmem", async (ns) => {
  await addTbfVethPair(ns, "vdl", "vul");
  const one = await run(ns, { changes, changesPerProcess: Infinity });
  const renewed = await run(ns, { changes });
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const first = one.rss[0];
  const last = one.rss[one.rss.length - 1];
  const perThousand = (last - first) / 1024 / ((one.rss.length - 1) * SAMPLE_EVERY) * 1000;
  console.log(
    `one coprocess: ${mb(first)} MB after ${SAMPLE_EVERY} changes, ${mb(last)} MB after ${changes}`,
  );
  console.log(
    `renewed: ${renewed.starts} coprocesses, peak ${mb(Math.max(...renewed.rss))} MB`,
  );
  console.log(
    `metric tc_batch_growth_kb_per_1000_changes_one_process ${perThousand.toFixed(0)} kB`,
  );
  console.log(`metric tc_batch_peak_rss_mb_one_process ${mb(Math.max(...one.rss))} MB`);
  console.log(`metric tc_batch_peak_rss_mb ${mb(Math.max(...renewed.rss))} MB`);
});
