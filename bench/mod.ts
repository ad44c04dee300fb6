/**
 * `deno task bench`: runs every bench script in this folder (each in its own process, with the
 * dev permission set unless listed in PERMISSIONS) and repeats all their `metric <name> <value> <unit>` lines at the end, so
 * figures can be compared across runs. Scripts in SLOW run only when named (`deno task bench soak`).
 */
import { DAEMON_V8_FLAGS, v8FlagsArg } from "../src/release/v8_flags.ts";

const here = new URL(".", import.meta.url).pathname;
const only = Deno.args;
/**
 * Scripts of several minutes or more, left out of a plain `deno task bench` and run only when
 * named exactly (`deno task bench soak` is bench/soak.ts, not also the 80-minute
 * bench/soak_real.ts, which runs as `deno task bench soak_real` or on its own).
 */
const SLOW = ["soak.ts", "soak_real.ts"];
/**
 * Extra flags a script needs (the soak and churn benches force GCs to read the heap; churn runs
 * with the daemon's own V8 flags, whose young generation decides much of the resident set, and
 * which expose `gc()` too).
 */
const V8_FLAGS: Record<string, string> = {
  "soak.ts": "--v8-flags=--expose-gc",
  "churn.ts": v8FlagsArg(DAEMON_V8_FLAGS),
};
const scripts = [...Deno.readDirSync(here)]
  .map((e) => e.name)
  .filter((n) =>
    n.endsWith(".ts") && n !== "mod.ts" && !n.startsWith("_") && !n.endsWith("_test.ts")
  )
  .filter((n) =>
    SLOW.includes(n)
      ? only.some((o) => n === o || n === `${o}.ts`)
      : only.some((o) => n.includes(o)) || only.length === 0
  )
  .sort();

/**
 * Scripts that need more than the dev permission set: Deno reads /proc only with --allow-all, and
 * the footprint benchmark measures the daemon's CPU and memory there.
 */
const PERMISSIONS: Record<string, string> = {
  "footprint.ts": "-A",
  "remote.ts": "-A",
  "helper_memory.ts": "-A",
  "churn.ts": "-A",
  "soak_real.ts": "-A",
};

const metrics: string[] = [];
let failures = 0;
for (const script of scripts) {
  console.log(`== bench/${script}`);
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      PERMISSIONS[script] ?? "-P=dev",
      ...(V8_FLAGS[script] === undefined ? [] : [V8_FLAGS[script]]),
      `${here}${script}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const text = new TextDecoder().decode((await child.output()).stdout);
  Deno.stdout.writeSync(new TextEncoder().encode(text));
  const status = await child.status;
  if (!status.success) {
    failures++;
    console.log(`!! bench/${script} failed with exit code ${status.code}`);
  }
  metrics.push(...text.split("\n").filter((l) => l.startsWith("metric ")));
  console.log(`== bench/${script} took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
console.log("\n== all metrics");
for (const m of metrics) console.log(m);
if (failures > 0) Deno.exit(1);
