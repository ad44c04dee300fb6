/**
 * `simulate` with a configuration's base rates against a built-in trace of another line
 * (`--config /etc/config/sqm-autorate`: 100000/20000 kbit/s on `step`'s 20000/5000): the shaper
 * starts far above the simulated link and the summary shows the delay of a line without SQM, which
 * reads as the controller failing. A note says so (docs/simulator.md, "Quick start").
 */
import type { CapacityTrace } from "../sim/trace.ts";

/** Base rates more than this many times the trace's nominal capacity get the note. */
export const FAR_ABOVE_TRACE = 2;

/**
 * The note for base rates given by the settings (0 = none, the trace's nominal is used) far above
 * `trace`'s nominal capacity in either direction; undefined when they are not.
 */
export function baseAboveTraceNote(
  given: { base_dl_rate: number; base_ul_rate: number },
  trace: Pick<CapacityTrace, "name" | "nominal">,
): string | undefined {
  const dl = given.base_dl_rate / trace.nominal.down;
  const ul = given.base_ul_rate / trace.nominal.up;
  if (!(dl > FAR_ABOVE_TRACE || ul > FAR_ABOVE_TRACE)) return undefined;
  const times = (r: number) => (r > 0 ? r.toFixed(1) : "-");
  return `note: the base rates (download ${given.base_dl_rate} / upload ${given.base_ul_rate} ` +
    `kbit/s) are ${times(dl)} / ${times(ul)} times the nominal capacity of trace ` +
    `"${trace.name}" (${trace.nominal.down} / ${trace.nominal.up} kbit/s), so the shaper ` +
    "starts far above the simulated link, as on a line slower than configured; leave the base " +
    "rates out to use the trace's, or give a trace of your line (--trace FILE)";
}
