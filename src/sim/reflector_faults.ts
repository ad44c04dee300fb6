/**
 * Faulty reflectors for the simulator (docs/simulator.md, "Faulty reflectors"): public reflectors
 * de-prioritise ICMP (a reply now and then 20–300 ms late), some jitter heavily, some stop
 * answering (for good, or for minutes and then answer again), some change route (their path delay
 * steps up for minutes). Issue 11 asks that none
 * of these cause a cut; `simulate --reflector-faults` and `scripts/sim_seeds.ts` measure it.
 */
import type { RandomSource } from "../util/clock.ts";

/** The fault kinds. */
export const REFLECTOR_FAULT_KINDS = ["late", "jitter", "dies", "outage", "route"] as const;

/** One fault kind. */
export type ReflectorFaultKind = (typeof REFLECTOR_FAULT_KINDS)[number];

/** A fault given to `count` reflectors of the pool. */
export interface ReflectorFault {
  /** What goes wrong. */
  kind: ReflectorFaultKind;
  /** Reflectors of the pool affected (the first ones not yet faulty, in pool order). */
  count: number;
  /** `late` only: probability that a reply is late (default `REFLECTOR_FAULT_DEFAULTS.lateP`). */
  p?: number;
}

/** The fault models' constants. */
export const REFLECTOR_FAULT_DEFAULTS = {
  /** `late`: probability that a reply is held back. */
  lateP: 0.05,
  /** `late`: the hold, uniform between these, ms. */
  lateMinMs: 20,
  lateMaxMs: 300,
  /** `jitter`: mean of the exponential jitter per direction, ms (RTT: twice this). */
  jitterMs: 5,
  /** `dies`: the reflector stops answering at a time uniform in this range, s. */
  diesFromS: 20,
  diesToS: 150,
  /** `outage`: the reflector stops answering at a time uniform in this range, s… */
  outageFromS: 20,
  outageToS: 100,
  /** …and answers again after this long (uniform), s. */
  outageMinS: 60,
  outageMaxS: 120,
  /** `route`: the step starts at a time uniform in this range, s… */
  routeFromS: 20,
  routeToS: 100,
  /** …lasts this long (uniform), s… */
  routeMinS: 120,
  routeMaxS: 180,
  /** …and adds this much to one direction's path delay (uniform), ms. */
  routeMinMs: 20,
  routeMaxMs: 60,
} as const;

/** What is wrong with one reflector, drawn once per run. */
export interface FaultPlan {
  /** Probability that a reply is held back at the reflector (`late`). */
  lateP?: number;
  /** From this time on the reflector answers nothing (`dies`), s. */
  diesAtS?: number;
  /** From `fromS` to `toS` the reflector answers nothing, then again (`outage`), s. */
  outage?: { fromS: number; toS: number };
  /** A route change (`route`): `addMs` on `dir`'s path delay from `fromS` to `toS`. */
  route?: { fromS: number; toS: number; addMs: number; dir: "up" | "down" };
}

/** A reflector's properties the faults change (`SimReflector`'s subset). */
export interface FaultTarget {
  /** Mean exponential jitter per direction, ms (`jitter` raises it). */
  jitterMs: number;
  /** The fault, when the reflector has one. */
  fault?: FaultPlan;
}

/**
 * Gives each fault to its `count` reflectors, the first of `reflectors` not yet faulty (the
 * first six are the simulated daemon's initial peers), drawing times and sizes from `random`
 * (a stream of its own, so a clean run's draws are not shifted). Throws when the pool is too
 * small.
 */
export function assignFaults(
  reflectors: FaultTarget[],
  faults: readonly ReflectorFault[],
  random: RandomSource,
): void {
  const d = REFLECTOR_FAULT_DEFAULTS;
  const uniform = (lo: number, hi: number) => lo + random() * (hi - lo);
  let next = 0;
  for (const f of faults) {
    for (let k = 0; k < f.count; k++) {
      const r = reflectors[next++];
      if (r === undefined) {
        throw new RangeError(
          `reflector faults: more faulty reflectors than the pool's ${next - 1}`,
        );
      }
      const plan: FaultPlan = {};
      switch (f.kind) {
        case "late":
          plan.lateP = f.p ?? d.lateP;
          break;
        case "jitter":
          r.jitterMs = Math.max(r.jitterMs, d.jitterMs);
          break;
        case "dies":
          plan.diesAtS = uniform(d.diesFromS, d.diesToS);
          break;
        case "outage": {
          const fromS = uniform(d.outageFromS, d.outageToS);
          plan.outage = { fromS, toS: fromS + uniform(d.outageMinS, d.outageMaxS) };
          break;
        }
        case "route": {
          const fromS = uniform(d.routeFromS, d.routeToS);
          plan.route = {
            fromS,
            toS: fromS + uniform(d.routeMinS, d.routeMaxS),
            addMs: uniform(d.routeMinMs, d.routeMaxMs),
            dir: random() < 0.5 ? "up" : "down",
          };
          break;
        }
      }
      r.fault = plan;
    }
  }
}

/** Whether the reflector answers nothing at `t` (`dies`, `outage`). */
export function silentAt(plan: FaultPlan | undefined, t: number): boolean {
  if (plan === undefined) return false;
  if (plan.diesAtS !== undefined && t >= plan.diesAtS) return true;
  const o = plan.outage;
  return o !== undefined && t >= o.fromS && t < o.toS;
}

/** The route change's extra path delay on `dir` at `t`, ms (0 without one). */
export function routeExtraMs(plan: FaultPlan | undefined, dir: "up" | "down", t: number): number {
  const r = plan?.route;
  return r !== undefined && r.dir === dir && t >= r.fromS && t < r.toS ? r.addMs : 0;
}

/**
 * Parses `KIND[:COUNT[:P]][,…]` (`simulate --reflector-faults`): COUNT reflectors of the pool
 * (default 1), P the probability of a late reply (`late` only).
 */
export function parseReflectorFaults(text: string): ReflectorFault[] {
  const out: ReflectorFault[] = [];
  for (const item of text.split(",")) {
    const [kind, count, p, ...rest] = item.trim().split(":");
    if (!(REFLECTOR_FAULT_KINDS as readonly string[]).includes(kind) || rest.length > 0) {
      throw new RangeError(
        `reflector fault "${item}": want KIND[:COUNT[:P]], KIND one of ` +
          REFLECTOR_FAULT_KINDS.join(", "),
      );
    }
    const n = count === undefined ? 1 : Number(count);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`reflector fault "${item}": COUNT must be an integer >= 1`);
    }
    const fault: ReflectorFault = { kind: kind as ReflectorFaultKind, count: n };
    if (p !== undefined) {
      const v = Number(p);
      if (kind !== "late" || p.trim() === "" || !(v >= 0 && v <= 1)) {
        throw new RangeError(`reflector fault "${item}": P (0-1) is for late only`);
      }
      fault.p = v;
    }
    out.push(fault);
  }
  return out;
}

/** The faults as `parseReflectorFaults` reads them (for titles). */
export function formatReflectorFaults(faults: readonly ReflectorFault[]): string {
  return faults.map((f) => `${f.kind}:${f.count}` + (f.p !== undefined ? `:${f.p}` : "")).join(
    ",",
  );
}
