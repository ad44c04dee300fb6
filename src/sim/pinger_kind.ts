/**
 * Which kind of delay measurement the simulated daemon gets, from the same settings the daemon
 * reads (`pinger`, `measurement_type`). See docs/simulator.md, "Pinger kind".
 */
import type { Settings } from "../config/types.ts";
import type { PingerTool, ProbeMode } from "../measure/types.ts";

/** The pinger tool the simulated daemon runs and the probe mode it ends up in. */
export interface SimPingerKind {
  /** The tool (`auto` resolved as on a typical install). */
  tool: PingerTool;
  /** `timestamp`: per-direction one-way delays; `echo`: RTT only, up = down = RTT/2. */
  mode: ProbeMode;
}

/**
 * Resolves `pinger` and `measurement_type` as the daemon would on a typical install: `auto`
 * finds fping (Debian's and OpenWrt's fping 5.1, which cannot send ICMP timestamps) and no
 * tsping, so it measures RTT only. `tsping` measures one-way delays unless `measurement_type`
 * is `icmp`; `fping` (as packaged, < 5.3) and iputils `ping` always measure RTT only.
 */
export function simPingerKind(
  settings: Pick<Settings, "pinger" | "measurement_type">,
): SimPingerKind {
  const tool: PingerTool = settings.pinger === "auto" ? "fping" : settings.pinger;
  const canTimestamp = tool === "tsping";
  const mode: ProbeMode = canTimestamp && settings.measurement_type !== "icmp"
    ? "timestamp"
    : "echo";
  return { tool, mode };
}
