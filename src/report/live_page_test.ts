import { assertEquals } from "../util/assert.ts";
import type { TickEvent } from "../control/ports.ts";
import { handleObservabilityRequest } from "./http_server.ts";
import { livePageHtml } from "./live_page.ts";
import { Telemetry } from "./telemetry.ts";

/** The page's own script, run against `telemetry` with stand-ins for the browser. */
async function runPage(telemetry: Telemetry) {
  const html = livePageHtml();
  const script = html.slice(html.lastIndexOf("<script>") + 8, html.lastIndexOf("</script>"));
  const elements = new Map<string, { textContent: string }>();
  const charts: number[][][] = [];
  let poll: (() => Promise<void>) | undefined;
  class FakePlot {
    readonly #i = charts.push([]) - 1;
    setData(data: number[][]) {
      charts[this.#i] = data;
    }
    setSize() {}
  }
  const browser = {
    uPlot: FakePlot,
    document: {
      body: { clientWidth: 800 },
      getElementById: (id: string) => {
        if (!elements.has(id)) elements.set(id, { textContent: "" });
        return elements.get(id);
      },
    },
    window: { addEventListener: () => {} },
    fetch: (url: string) =>
      Promise.resolve(handleObservabilityRequest(new Request(`http://x${url}`), telemetry)),
    setInterval: (fn: () => Promise<void>) => void (poll = fn),
  };
  new Function(...Object.keys(browser), script)(...Object.values(browser));
  await new Promise((r) => setTimeout(r, 20)); // its first poll
  return {
    poll: () => poll!(),
    times: () => charts[0][0] ?? [],
    status: () => elements.get("status")?.textContent,
  };
}

function tick(wallS: number, monotonicS: number): TickEvent {
  return {
    wallMs: wallS * 1000,
    monotonicS,
    durationS: 0.003,
    path: "hold",
    dlRate: 50_000,
    ulRate: 10_000,
    dlThresholdMs: 15,
    ulThresholdMs: 15,
    fresh: 5,
    counterFailure: false,
    shaperFailures: { dl: false, ul: false },
    controllerFailure: false,
    adjusterFailures: 0,
  };
}

Deno.test("live page: the daemon's wall clock stepped back a year (NTP after boot): the charts reload instead of freezing", async () => {
  const telemetry = new Telemetry();
  let wallS = 1_700_000_000;
  let mono = 10;
  const ticks = (n: number) => {
    for (let i = 0; i < n; i++) telemetry.onTick(tick(wallS += 0.5, mono += 0.5));
  };
  ticks(4);
  const page = await runPage(telemetry);
  assertEquals(page.times().length, 4, page.status());
  wallS -= 365 * 86400;
  ticks(4);
  await page.poll();
  await page.poll();
  const t = page.times();
  assertEquals(t.length, 8, page.status());
  assertEquals(t.at(-1), wallS, "on the stepped clock");
  for (let i = 1; i < t.length; i++) assertEquals(t[i] - t[i - 1], 0.5);
  ticks(2);
  await page.poll();
  assertEquals(page.times().length, 10, "polling goes on from there");
});
