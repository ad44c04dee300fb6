/**
 * The daemon's memory gauges through its real `/metrics` listener, the daemon under exactly its
 * release permission set (`-P=daemon`): `Deno.memoryUsage()` needs no permission beyond it. The
 * daemon runs in a throw-away network namespace (TBF on a veth pair, the namespace's loopback as
 * reflectors), so the manifest's fixed port 9101 is its own; curl in the same namespace scrapes.
 */
import { assert } from "../../src/util/assert.ts";
import {
  addTbfVethPair,
  daemonRuntimeDir,
  needs,
  netnsSkipReason,
  sh,
  withNetns,
} from "../../src/util/netns_testing.ts";
import { daemonRunArgs, ROOT } from "./run_deno.ts";

const reason = await netnsSkipReason();

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value of an unlabelled sample line, NaN when absent. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

function stop(p: Deno.ChildProcess): void {
  try {
    p.kill("SIGTERM");
  } catch {
    // already gone
  }
}

Deno.test({
  ...needs(
    "/metrics of the daemon under -P=daemon: resident set, JS heap used/total and external memory",
    reason,
  ),
  sanitizeResources: false,
  fn: () =>
    withNetns("sqma-memgauge", async (ns) => {
      await addTbfVethPair(ns, "vmup", "vmdn");
      const dir = await daemonRuntimeDir("memgauge-");
      const daemon = new Deno.Command("ip", {
        args: [
          ...["netns", "exec", ns, Deno.execPath()],
          ...daemonRunArgs(`${ROOT}/main.ts`, ["run"]),
          ...["--upload-interface", "vmup", "--download-interface", "vmdn"],
          ...["--upload-base-kbits", "10000", "--download-base-kbits", "50000"],
          ...["--pinger", "fping", "--reflector-list-file", `${dir}/reflectors.csv`],
          ...["--shaper", "tbf", "--suppress-statistics", "--state-dir", dir],
          ...["--metrics-listen", "127.0.0.1:9101"],
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = Promise.all([daemon.stdout, daemon.stderr].map((s) => new Response(s).text()));
      try {
        let text = "";
        // The listener starts before the first baselines: a few seconds under deno's start-up.
        for (let i = 0; i < 60 && !text.includes("process_resident_memory_bytes"); i++) {
          await pause(250);
          const r = await sh("ip", [
            ...["netns", "exec", ns, "curl", "-sf", "--max-time", "2"],
            "http://127.0.0.1:9101/metrics",
          ]);
          text = r.out;
        }
        if (text === "") {
          stop(daemon);
          throw new Error(`no /metrics answer; the daemon said:\n${(await output).join("")}`);
        }
        const rss = sample(text, "process_resident_memory_bytes");
        const used = sample(text, "sqm_js_heap_used_bytes");
        const total = sample(text, "sqm_js_heap_total_bytes");
        const external = sample(text, "sqm_js_external_memory_bytes");
        for (const n of ["sqm_js_heap_used_bytes", "sqm_js_heap_total_bytes"]) {
          assert(text.includes(`# HELP ${n} `) && text.includes(`# TYPE ${n} gauge`), n);
        }
        console.log(`memory gauges: rss ${rss}, JS heap ${used} of ${total}, external ${external}`);
        // Plausible: a few MB of heap, within what is reserved, within the resident set.
        assert(rss > 10e6 && rss < 1e9, `rss ${rss}`);
        assert(used > 1e6 && used <= total, `heap used ${used} of ${total}`);
        assert(total < rss, `heap total ${total}, rss ${rss}`);
        assert(external > 0 && external < rss, `external ${external}`);
      } finally {
        stop(daemon);
        await daemon.status;
        await output;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }),
});
