/**
 * The live page and /metrics of the real daemon, seen by a real headless Chromium: the daemon
 * runs under its release permission set in the testbed's router namespace with
 * `--metrics-listen 127.0.0.1:9101` (that namespace's own loopback), Chromium runs in the same
 * namespace. Checks that the page loads uPlot from the daemon, that the chart has points, and
 * that the download figures change when an iperf3 download loads the link. Writes a screenshot
 * (`SQMA_ARTIFACT_DIR`, default /tmp/sqm-autorate-artifacts/live-page.png). With mosquitto
 * installed, a broker in the same namespace receives the daemon's Home Assistant messages.
 */
import { assert } from "../../src/util/assert.ts";
import { runAsync } from "./cmd.ts";
import { startIperfServer, waitIperfServer } from "./scenario.ts";
import { daemonRunArgv, testbedDaemonFlags, writeTestbedReflectors } from "./daemon_flags.ts";
import { ADDR, netnsUnavailableReason, removeStaleNamespaces, Testbed } from "./testbed.ts";
import { CHROMIUM, chromiumUnavailableReason, dumpDom, screenshot, textOfId } from "./chromium.ts";

const RUNTIME_DIR = "/tmp/sqm-autorate";
const ARTIFACT_DIR = Deno.env.get("SQMA_ARTIFACT_DIR") ?? "/tmp/sqm-autorate-artifacts";
const URL_BASE = "http://127.0.0.1:9101";

const reason = netnsUnavailableReason() ?? await chromiumUnavailableReason();
if (reason) console.log(`live page e2e: skipped: ${reason}`);
/** Debian's broker, for the MQTT part (checked only when mosquitto and mosquitto_sub exist). */
const mosquitto = exists("/usr/bin/mosquitto_sub")
  ? ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((p) => exists(p))
  : undefined;
if (mosquitto === undefined) {
  console.log("live page e2e: MQTT part skipped: mosquitto or mosquitto_sub missing");
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Mbit/s out of a card value like "12.34 Mbit/s" (NaN for "–"). */
function mbit(text: string | undefined): number {
  const m = /^([\d.]+) Mbit\/s$/.exec(text?.trim() ?? "");
  return m ? Number(m[1]) : NaN;
}

Deno.test({
  name: `live page in ${CHROMIUM}: loads from the daemon, draws points, follows the load; MQTT`,
  ignore: reason !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  removeStaleNamespaces();
  await Deno.mkdir(RUNTIME_DIR, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: RUNTIME_DIR, prefix: "live-" });
  let tb: Testbed | undefined;
  let daemon: Deno.ChildProcess | undefined;
  let daemonLog = Promise.resolve("");
  try {
    tb = Testbed.create({
      shaper: "tbf",
      ispDownKbit: 20_000,
      ispUpKbit: 10_000,
      ispBufferMs: 100,
      routerBufferMs: 20,
      routerDownKbit: 20_000,
      routerUpKbit: 10_000,
      congestionControl: "cubic,reno",
      tempDir: dir,
    });
    await writeTestbedReflectors(dir);
    // A real broker in the router namespace for the daemon's MQTT publisher (port 1883 of that
    // namespace's loopback: the release manifest allows it).
    const mqttReady = mosquitto !== undefined;
    if (mqttReady) {
      await Deno.writeTextFile(
        `${dir}/mosquitto.conf`,
        "listener 1883 127.0.0.1\nallow_anonymous true\npersistence false\n",
      );
      const b = tb.exec(tb.ns.router, [mosquitto, "-c", `${dir}/mosquitto.conf`]);
      tb.track(
        new Deno.Command(b[0], { args: b.slice(1), stdout: "null", stderr: "null" }).spawn(),
      );
    }
    const argv = tb.exec(tb.ns.router, [
      ...daemonRunArgv([
        ...testbedDaemonFlags({ dir, upKbit: 10_000, downKbit: 20_000 }),
        "--metrics-listen",
        "127.0.0.1:9101",
        ...(mqttReady ? ["--mqtt-url", "mqtt://127.0.0.1:1883", "--mqtt-interval", "1"] : []),
      ]),
    ]);
    daemon = tb.track(
      new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn(),
    );
    const decode = (s: ReadableStream<Uint8Array>) => new Response(s).text();
    const d = daemon;
    daemonLog = Promise.all([decode(d.stdout), decode(d.stderr)]).then(([o, e]) => o + e);

    // The page, once the daemon controls (start-up takes a few seconds: settle, baselines).
    let dom = "";
    for (let i = 0; i < 20; i++) {
      await sleep(1000);
      dom = await dumpDom(tb.exec(tb.ns.router, []), `${URL_BASE}/`, { budgetMs: 2500 });
      if (Number(textOfId(dom, "points") ?? 0) >= 3) break;
    }
    const points = Number(textOfId(dom, "points") ?? 0);
    assert(points >= 3, `the chart has points (${points}):\n${dom.slice(0, 2000)}`);
    assert(dom.includes("uplot"), "uPlot drew into the page (its elements carry class uplot)");
    const idle = mbit(textOfId(dom, "dl-throughput"));
    assert(idle < 2, `idle download throughput ${idle} Mbit/s`);

    // Load the download direction and look again.
    startIperfServer(tb);
    await waitIperfServer(tb);
    const load = runAsync(
      tb.exec(tb.ns.client, ["iperf3", "-c", ADDR.server, "-R", "-P", "4", "-t", "35"]),
      { timeoutMs: 60_000 },
    );
    // Chromium needs several seconds to start on a busy machine: both looks fall into the load.
    await sleep(4000);
    const busy = await dumpDom(tb.exec(tb.ns.router, []), `${URL_BASE}/`, { budgetMs: 2500 });
    const loaded = mbit(textOfId(busy, "dl-throughput"));
    await Deno.mkdir(ARTIFACT_DIR, { recursive: true });
    const png = `${ARTIFACT_DIR}/live-page.png`;
    await screenshot(tb.exec(tb.ns.router, []), `${URL_BASE}/`, png, { budgetMs: 2500 });
    console.log(`live page e2e: screenshot ${png}`);
    await load;
    assert(loaded > 4, `download throughput under load ${loaded} Mbit/s (idle ${idle})`);
    const size = (await Deno.stat(png)).size;
    assert(size > 10_000, `screenshot ${png} has ${size} bytes`);

    if (mqttReady) {
      // Home Assistant sees the discovery (retained) and state messages of the real daemon.
      const sub = await runAsync(
        tb.exec(tb.ns.router, [
          "mosquitto_sub",
          "-h",
          "127.0.0.1",
          "-t",
          "homeassistant/#",
          "-t",
          "sqm-autorate/#",
          "-v",
          "-W",
          "3",
        ]),
        { timeoutMs: 10_000 },
      );
      const lines = sub.stdout.split("\n");
      assert(
        lines.some((l) =>
          l.startsWith("homeassistant/sensor/sqm_autorate_wan_lan/download_rate/config {")
        ),
        `discovery:\n${sub.stdout.slice(0, 1500)}${sub.stderr}`,
      );
      const state = lines.filter((l) => l.startsWith("sqm-autorate/sqm_autorate_wan_lan/state "));
      assert(state.length >= 1, `state messages:\n${sub.stdout.slice(0, 1500)}`);
      const values = JSON.parse(state.at(-1)!.split(" ").slice(1).join(" "));
      assert(values.download_rate > 0, state.at(-1));
    }
    const metrics = await dumpDom(tb.exec(tb.ns.router, []), `${URL_BASE}/metrics`, {
      budgetMs: 500,
    });
    // A baseline of a testbed reflector: which ones the daemon pings is drawn at random (five of
    // the six for its initial peers), so no one address is sure to have one.
    const baselines = ADDR.reflectors.map((ip) =>
      `sqm_reflector_baseline_owd_seconds{reflector="${ip}"`
    );
    assert(
      baselines.some((b) => metrics.includes(b.replaceAll('"', "&quot;")) || metrics.includes(b)),
      `a reflector's baseline among: ${baselines.join(", ")}`,
    );
    for (
      const name of [
        'sqm_shaper_rate_bits_per_second{direction="download"}',
        "sqm_tick_duration_seconds_bucket",
        "process_resident_memory_bytes",
        "sqm_js_heap_used_bytes",
      ]
    ) {
      assert(metrics.includes(name.replaceAll('"', "&quot;")) || metrics.includes(name), name);
    }
  } catch (e) {
    daemon?.kill("SIGTERM");
    console.log(`daemon output:\n${(await daemonLog).slice(-3000)}`);
    throw e;
  } finally {
    try {
      daemon?.kill("SIGTERM");
    } catch {
      // already gone
    }
    await daemon?.status;
    tb?.destroy();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
