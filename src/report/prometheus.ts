/**
 * Prometheus text exposition (format 0.0.4) of a telemetry snapshot. Names carry their base
 * units (`_bits_per_second`, `_seconds`, `_bytes`, `_ratio`, `_total`); the families are listed
 * in docs/observability.md. Pure: snapshot in, text out.
 */
import { type TelemetrySnapshot, TICK_BUCKETS_S } from "./telemetry.ts";

/** The Content-Type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;

const DIRS = [["dl", "download"], ["ul", "upload"]] as const;

/** A sample value in the text format (`NaN`, `+Inf`, `-Inf` spelled as Prometheus does). */
function value(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Builds the exposition text family by family. */
class Exposition {
  readonly lines: string[] = [];

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, v: number, labels?: Labels): this {
    this.lines.push(`${name}${labelText(labels)} ${value(v)}`);
    return this;
  }

  /** A family of one sample, without labels. */
  single(name: string, kind: { type: "gauge" | "counter"; help: string }, v: number): this {
    return this.family(name, kind.type, kind.help).sample(name, v);
  }

  /** A family with one sample per direction (`direction="download"`, then `"upload"`). */
  perDirection(
    name: string,
    kind: { type: "gauge" | "counter"; help: string },
    v: (dir: "dl" | "ul") => number,
  ): this {
    this.family(name, kind.type, kind.help);
    for (const [k, d] of DIRS) this.sample(name, v(k), { direction: d });
    return this;
  }
}

/** Renders the snapshot in the text exposition format. */
export function renderPrometheus(s: TelemetrySnapshot): string {
  const x = new Exposition();
  x.perDirection(
    "sqm_shaper_rate_bits_per_second",
    { type: "gauge", help: "Shaper rate in force." },
    (k) => s[k].rateKbit * 1000,
  );
  x.perDirection(
    "sqm_throughput_bits_per_second",
    { type: "gauge", help: "Achieved throughput in the last normal tick." },
    (k) => s[k].throughputKbit * 1000,
  );
  x.perDirection(
    "sqm_load_ratio",
    { type: "gauge", help: "Throughput divided by the shaper rate in the last normal tick." },
    (k) => s[k].load,
  );
  x.perDirection(
    "sqm_delay_seconds",
    { type: "gauge", help: "Delay statistic (added one-way delay) in the last normal tick." },
    (k) => s[k].delayMs / 1000,
  );
  x.perDirection(
    "sqm_delay_threshold_seconds",
    { type: "gauge", help: "Delay threshold in force (plugins may move it)." },
    (k) => s[k].thresholdMs / 1000,
  );
  x.single("sqm_reflectors_fresh", {
    type: "gauge",
    help: "Reflectors with a fresh delay sample in the last tick.",
  }, s.fresh);

  x.family(
    "sqm_reflector_active",
    "gauge",
    "1 while the reflector is pinged, 0 for one that answered in the last 15 minutes.",
  );
  for (const r of s.reflectors) {
    x.sample("sqm_reflector_active", r.active ? 1 : 0, { reflector: r.ip });
  }
  for (
    const [kind, help] of [["baseline", "Baseline (slow EWMA)"], [
      "recent",
      "Recent (fast EWMA)",
    ]] as const
  ) {
    const name = `sqm_reflector_${kind}_owd_seconds`;
    x.family(name, "gauge", `${help} one-way delay per reflector (RTT/2 in echo mode).`);
    for (const r of s.reflectors) {
      const v = r[kind];
      if (v === undefined) continue;
      x.sample(name, v.down / 1000, { reflector: r.ip, direction: "download" });
      x.sample(name, v.up / 1000, { reflector: r.ip, direction: "upload" });
    }
  }
  x.family(
    "sqm_reflector_loss_ratio",
    "gauge",
    "Share of probes without a reply over the last 10 s.",
  );
  for (const r of s.reflectors) {
    if (r.loss !== undefined) x.sample("sqm_reflector_loss_ratio", r.loss, { reflector: r.ip });
  }
  x.family("sqm_reflector_replies_total", "counter", "Replies received per reflector.");
  for (const r of s.reflectors) {
    x.sample("sqm_reflector_replies_total", r.replies, { reflector: r.ip });
  }

  x.single("sqm_reflector_reselections_total", {
    type: "counter",
    help: "Times the reflector set was changed.",
  }, s.reselections);
  x.single("sqm_pinger_starts_total", {
    type: "counter",
    help:
      "Pinger child processes started: the first, restarts after an exit, and new reflector sets.",
  }, s.pingerStarts);
  x.perDirection(
    "sqm_tc_failures_total",
    { type: "counter", help: "Shaper rate changes that tc refused." },
    (k) => s.tcFailures[k],
  );
  x.single("sqm_counter_failures_total", {
    type: "counter",
    help: "Ticks whose byte counters were unreadable (rates held).",
  }, s.counterFailures);
  x.single("sqm_controller_failures_total", {
    type: "counter",
    help: "Controller calls that threw or returned an invalid rate.",
  }, s.controllerFailures);
  x.single(
    "sqm_lua_errors_total",
    { type: "counter", help: "Failed Lua plugin calls." },
    s.luaErrors,
  );
  x.single("sqm_plugins_disabled", {
    type: "gauge",
    help: "Lua plugins disabled after repeated failures.",
  }, s.pluginsDisabled);
  x.family(
    "sqm_controller_decisions_total",
    "counter",
    "Control ticks by path: normal, hold (counters unreadable), no-deltas, idle (idle mode).",
  );
  for (const path of ["normal", "hold", "no-deltas", "idle"] as const) {
    x.sample("sqm_controller_decisions_total", s.decisions[path], { path });
  }
  x.family(
    "sqm_tick_duration_seconds",
    "histogram",
    "Time one control tick took (counters, controller, plugins, tc).",
  );
  TICK_BUCKETS_S.forEach((le, i) =>
    x.sample("sqm_tick_duration_seconds_bucket", s.tickDuration.buckets[i], { le: String(le) })
  );
  x.sample("sqm_tick_duration_seconds_bucket", s.tickDuration.count, { le: "+Inf" });
  x.sample("sqm_tick_duration_seconds_sum", s.tickDuration.sumS);
  x.sample("sqm_tick_duration_seconds_count", s.tickDuration.count);
  const m = s.memory;
  x.single("process_resident_memory_bytes", {
    type: "gauge",
    help: "Resident memory size of the daemon.",
  }, m.rss);
  x.single("sqm_js_heap_used_bytes", {
    type: "gauge",
    help: "V8 heap used by the daemon's JavaScript (live objects and garbage not yet collected).",
  }, m.heapUsed);
  x.single("sqm_js_heap_total_bytes", {
    type: "gauge",
    help: "V8 heap reserved by the daemon (used and free).",
  }, m.heapTotal);
  x.single("sqm_js_external_memory_bytes", {
    type: "gauge",
    help: "Memory outside the V8 heap held by JavaScript objects (buffers).",
  }, m.external);
  return x.lines.join("\n") + "\n";
}
