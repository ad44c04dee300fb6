/**
 * One reading of a running daemon from inside its network namespace (bench/soak_real.ts runs it
 * with `ip netns exec`): the counters of its `/metrics`, then, through its V8 inspector, the JS
 * heap after a forced full collection (`HeapProfiler.collectGarbage`, twice) and
 * `Deno.memoryUsage()`. Prints one JSON object. With `--snapshot PATH` it also writes a heap
 * snapshot taken after the collection (docs/footprint.md, "The real daemon, 80 minutes").
 *
 *   deno run --allow-net --allow-write bench/_inspect_heap.ts --inspect-port 9229 \
 *     --metrics-port 9101 [--snapshot PATH]
 */

/** Counters of `/metrics` the soak follows (summed over their labels). */
export const COUNTERS = [
  "sqm_controller_decisions_total",
  "sqm_reflector_reselections_total",
  "sqm_pinger_starts_total",
  "sqm_tc_failures_total",
  "sqm_controller_failures_total",
  "sqm_lua_errors_total",
  "sqm_js_heap_used_bytes",
  "process_resident_memory_bytes",
] as const;

/** Sums each named family's samples in a Prometheus text exposition. */
export function sumFamilies(text: string, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || !names.includes(m[1])) continue;
    out[m[1]] = (out[m[1]] ?? 0) + Number(m[3]);
  }
  return out;
}

function argOf(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
class Cdp {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (v: Record<string, unknown>) => void>();
  #next = 1;
  /** Called with every event (method, params). */
  onEvent: (method: string, params: Record<string, unknown>) => void = () => {};

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (typeof msg.id === "number") {
        this.#pending.get(msg.id)?.(msg);
        this.#pending.delete(msg.id);
      } else if (typeof msg.method === "string") {
        this.onEvent(msg.method, msg.params ?? {});
      }
    };
  }

  static open(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = (e) => reject(new Error(`inspector: ${(e as ErrorEvent).message ?? e}`));
    });
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

if (import.meta.main) {
  const inspectPort = argOf("--inspect-port") ?? "9229";
  const metricsPort = argOf("--metrics-port") ?? "9101";
  const snapshot = argOf("--snapshot");
  const out: Record<string, unknown> = {};
  try {
    const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    Object.assign(out, sumFamilies(await r.text(), COUNTERS));
  } catch (e) {
    out.metrics_error = String(e);
  }
  const list = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const cdp = await Cdp.open(list[0].webSocketDebuggerUrl);
  const before = (await cdp.call("Runtime.getHeapUsage")).result as Record<string, number>;
  await cdp.call("HeapProfiler.collectGarbage");
  await cdp.call("HeapProfiler.collectGarbage");
  const after = (await cdp.call("Runtime.getHeapUsage")).result as Record<string, number>;
  const mu = (await cdp.call("Runtime.evaluate", {
    expression: "JSON.stringify(Deno.memoryUsage())",
    returnByValue: true,
  })).result as { result: { value: string } };
  out.heap_used_before_gc = before.usedSize;
  out.heap_used_after_gc = after.usedSize;
  out.heap_total_after_gc = after.totalSize;
  out.memory_usage = JSON.parse(mu.result.value);
  // The same, but collected and read in one turn of the daemon's own thread (`gc` is there with
  // the release's --expose-gc): between the inspector's collection and its reading the daemon
  // keeps running and allocating (up to its 1 MB semi-space), which made the reading above vary by
  // ±0.25 MB from one minute to the next.
  const sync = (await cdp.call("Runtime.evaluate", {
    expression: "(() => { if (typeof gc !== 'function') return -1; gc(); gc();" +
      " return Deno.memoryUsage().heapUsed; })()",
    returnByValue: true,
  })).result as { result: { value: unknown } };
  if (typeof sync.result?.value === "number" && sync.result.value >= 0) {
    out.heap_used_sync_gc = sync.result.value;
  }
  // Deno's open resources (child processes, their pipes, listeners): Deno's internal table, so
  // read defensively (undefined when an upgrade moves it).
  const res = (await cdp.call("Runtime.evaluate", {
    expression:
      "(() => { try { return Object.keys(Deno[Deno.internal].core.resources()).length; }" +
      " catch { return -1; } })()",
    returnByValue: true,
  })).result as { result: { value: unknown } };
  if (typeof res.result?.value === "number" && res.result.value >= 0) {
    out.deno_resources = res.result.value;
  }
  if (snapshot !== undefined) {
    const chunks: string[] = [];
    cdp.onEvent = (method, params) => {
      if (method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(String(params.chunk));
    };
    await cdp.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    await Deno.writeTextFile(snapshot, chunks.join(""));
    out.snapshot = snapshot;
  }
  cdp.close();
  console.log(JSON.stringify(out));
}
