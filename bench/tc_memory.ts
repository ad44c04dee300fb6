/**
 * Memory of the `tc -batch` coprocess that makes the rate changes (docs/footprint.md, "tc -batch
 * over months"): real `tc` in a throw-away network namespace, 3000 TBF rate changes through the
 * daemon's shaper, once with one coprocess for all of them and once as the daemon runs it (a
 * fresh coprocess every `TC_CHANGES_PER_PROCESS` changes); tc's resident memory is read from
 * /proc after every 100 changes. Needs root and iproute2; run with -A (Deno reads /proc only
 * then).
 *
 *   deno run -A bench/tc_memory.ts [--changes N]
 *
 * Ends with `metric tc_batch_growth_kb_per_1000_changes_one_process`, `tc_batch_peak_rss_mb` and
 * `tc_batch_peak_rss_mb_one_process`.
 */
import { createShaperPair } from "../src/apply/shaper.ts";
import { TcBatch } from "../src/apply/tc_batch.ts";
import { denoSpawner, type ProcessSpawner } from "../src/util/coprocess.ts";
import { addTbfVethPair, netnsSkipReason, withNetns } from "../src/util/netns_testing.ts";
import { parseProcStat } from "./_proc_usage.ts";
import { argValue } from "./_args.ts";

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

const skip = await netnsSkipReason();
if (skip !== undefined) {
  console.log(`tc_memory: skipped (${skip})`);
  Deno.exit(0);
}
const changes = Number(argValue("--changes") ?? 3000);
if (!Number.isInteger(changes) || changes < 2 * SAMPLE_EVERY) {
  throw new Error(`tc_memory: --changes wants a whole number of at least ${2 * SAMPLE_EVERY}`);
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
