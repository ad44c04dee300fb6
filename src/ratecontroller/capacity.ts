/**
 * The capacity controller (`rate_controller = capacity`): sample-driven, it cuts to the
 * throughput delivered just before a sustained delay rise, holds while the queue drains, then
 * returns quickly to that capacity estimate and probes gently beyond it. The design, its
 * parameters and the measurements behind them are in docs/controllers.md.
 */
import type { Settings } from "../config/types.ts";
import type { FifoSize, OwdState } from "../control/ports.ts";
import { freshWindowS } from "../control/deltas.ts";
import type { Clock } from "../util/clock.ts";
import type {
  Ratecontroller,
  RateDecision,
  ShaperQueues,
  TickInput,
} from "../control/ratecontroller_port.ts";
import {
  countAbove,
  countAboveSince,
  readSamples,
  type SampleView,
  secondLargest,
} from "./sample_view.ts";
import { ReflectorTrust } from "./reflector_trust.ts";
import { JoinedBaseline } from "./joined_baseline.ts";
import {
  UPSTREAM_DEFAULTS,
  upstreamCut,
  upstreamFollowStop,
  upstreamGrowthCut,
  type UpstreamInput,
  type UpstreamParams,
  upstreamProbe,
} from "./capacity_upstream.ts";
import { Recurrence, type RecurrenceParams } from "./recurrence.ts";
import { SETTLE_DEFAULTS, type SettleParams, settling } from "./capacity_settle.ts";
import { DeepDip, type DeepDipParams } from "./deep_dip.ts";
import { Bystander, type BystanderParams } from "./bystander.ts";
import { Drain, type DrainParams } from "./drain.ts";
import { FedOvershoot, type FedOvershootParams } from "./fed_overshoot.ts";
import { StepGate } from "./step_gate.ts";
import { UploadCeiling, type UploadCeilingParams } from "./upload_ceiling.ts";
import { maxSince, pushTimed, type RateSample } from "./timed_window.ts";
import { farUnit, probeUnit } from "./probe_unit.ts";
import { StartProbe, type StartProbeParams } from "./start_probe.ts";
import { holderClimbs, WaitClimb, type WaitClimbParams } from "./wait_climb.ts";
import { LoadStart, type LoadStartParams } from "./load_start.ts";
import { CounterRatio } from "./counter_ratio.ts";
import { NearReturn, type NearReturnParams } from "./near_return.ts";
import { RepeatedLevel, type RepeatedLevelParams } from "./repeated_level.ts";

/** The settings the capacity controller reads. */
export type CapacitySettings = Pick<
  Settings,
  | "base_dl_rate"
  | "base_ul_rate"
  | "min_dl_rate"
  | "min_ul_rate"
  | "tick_interval"
  | "num_reflectors"
  | "min_change_interval"
  | "shaper"
>;

/** Tunables; the defaults are the ones docs/controllers.md measured. */
export interface CapacityParams {
  /** Reflectors whose last sample must exceed the threshold before a cut. */
  votes: number;
  /** A reflector votes for a cut when its last sample exceeds this fraction of the threshold. */
  triggerFraction: number;
  /**
   * Reflectors whose high samples the others do not confirm stop voting (v61a,
   * `reflector_trust.ts`).
   */
  reflectorTrust: boolean;
  /**
   * A reflector whose baseline began inside a queue the established ones showed gets that queue
   * added back to its deltas (v73, `joined_baseline.ts`).
   */
  joinedBaseline: boolean;
  /** Below this fraction of the threshold a reflector's sample shows no queue. */
  clearFraction: number;
  /** The time a cut gives the queue to drain, s; also the hold before a second cut. */
  drainS: number;
  /** A cut aims at this fraction of the capacity estimate (before the drain allowance). */
  margin: number;
  /** Time constant of the return to the capacity estimate from below, s. */
  approachS: number;
  /** Probe speed beyond the estimate right after a queue was seen, fraction of it per s. */
  probePerS: number;
  /** The probe speed doubles every this many seconds without a queue. */
  probeDoubleS: number;
  /** Highest probe speed, fraction of the estimate per s. */
  probeMaxPerS: number;
  /** RTT-only attribution: by load alone, or one direction probing at a time ("token"). */
  attribution: "load" | "token";
  /**
   * RTT only, both busy: once neither direction has seen a queue for this long (s), both probe at
   * once and a rise is attributed by load; one at a time halved each one's climb after a capacity
   * rise (v29a, docs/controllers.md). Infinity: always one at a time.
   */
  bothProbeQuietS: number;
  /** While the other direction probes (RTT only), this one waits at this fraction of its estimate. */
  yieldFraction: number;
  /**
   * RTT only, both busy, the download holding the probing turn: a rise that neither direction
   * raised its rate into (turn rule 1 then blames by load) while the download still delivers its
   * whole rate (`upstreamLoad`) cuts the download only; the upload, waiting at its target, is not
   * blamed (v46, docs/controllers.md).
   */
  spareWaitingUpload: boolean;
  /**
   * The probing turn passes to the other direction after this long, s; after a cut of the turn
   * holder it passes once that cut's drain time is over (v26, docs/controllers.md).
   */
  tokenS: number;
  /**
   * The download is only cut while it delivers less than this fraction of its rate (its
   * bottleneck before our shaper); 1 disables the check.
   */
  upstreamLoad: number;
  /** A cut this long after the previous one is isolated (its pre-cut level is recalled), s. */
  recallS: number;
  /** Load (delivered / rate) at or above which the rate limits the traffic: grow. */
  highLoad: number;
  /** Load below which the direction is lightly used: relax toward the estimate and base. */
  lightLoad: number;
  /**
   * While lightly loaded the rate waits at this fraction of the estimate, so the slow start of
   * the next load fills our shaper's queue (whose AQM slows it) rather than the ISP's; lower for
   * the upload, whose overshoot at a load start the counters cannot show (v33).
   */
  idleFraction: { dl: number; ul: number };
  /**
   * For this long after a deep dip (either direction, deep_dip.ts) an idle upload, delivering
   * under `fadeIdleLoad` of its minimum rate, waits at its minimum instead: a link that fell
   * below the floor can fade again, and an upload load starting in a fade fills the ISP's queue
   * from whatever rate it starts at (v34, docs/controllers.md), s. 0: off.
   */
  fadeIdleS: number;
  /** Below this fraction of its minimum rate delivered, the upload is idle (v34). */
  fadeIdleLoad: number;
  /** Time constant of the estimate's relaxation toward base while lightly loaded, s. */
  relaxS: number;
  /** Window of the delivered-throughput average, s. */
  deliveredWindowS: number;
  /** No cut goes deeper than this fraction of the current rate at once. */
  maxCut: number;
  /**
   * A cut whose decision delivered less than this fraction of the rate in force (and at least
   * `maxCut` of it: no collapse) takes that delivery, not the window's largest, as the link's
   * rate: right after a fall the window still holds what passed before it (v38,
   * docs/controllers.md). 0: off.
   */
  linkNowLoad: number;
  /**
   * For this long after a load start (s), a download whose delivery still grows by more than
   * `rampGrowth` over the delivered window is ramping (TCP slow start), not held back by an
   * upstream bottleneck: it is not blamed by delivering less than its rate.
   */
  rampGraceS: number;
  /** Growth over the delivered window that marks a ramping download (fraction). */
  rampGrowth: number;
  /**
   * tbf/htb download behind the bottleneck: a download climbing with the link keeping up (this
   * decision delivered its rate, the delivery grew by `rampGrowth`) is not taken for one behind a
   * bottleneck by its window mean (v43).
   */
  climbExempt: boolean;
  /**
   * RTT only, both busy: a download cut while it delivers under `upstreamLoad` of its rate and the
   * upload's rate in force is above its rate when the RTT was last clear is a starved cut (its
   * ACKs may wait in the upload's ISP queue); it keeps the remembered level, and the return then
   * stays at the measured level until no queue for `settle.clearS` whatever the gap. Not when
   * the download holds the turn and raised its rate outside the both-probe time: it is the
   * prober (v43f, docs/controllers.md).
   */
  starvedCut: boolean;
  /**
   * RTT only, in the both-probe time with the upload's rate raised since the RTT was last clear:
   * a rise while the download delivers under this fraction of its rate in the decision cuts the
   * upload only, its probe's overshoot may hold the download's ACKs (v44, docs/controllers.md;
   * 0: off). The download is cut if the queue outlasts `proberFirstHoldS`.
   */
  proberFirstLoad: number;
  /** How long a download spared by `proberFirstLoad` stays spared, s. */
  proberFirstHoldS: number;
  /** A download cut this long after it was last spared is a starved cut (`starvedCut`), s. */
  proberFirstKeepS: number;
  /**
   * The same sparing within this long after the download's load start (s; 0: off), whoever may
   * probe: the upload's first climb overshoots while the download's ACKs wait (v45dq,
   * docs/controllers.md "v45d").
   */
  proberFirstStartS: number;
  /**
   * Above the estimate the last cut measured, the return toward a remembered level climbs at
   * most this many times `returnUnit` per s: the remembered level may be stale.
   */
  returnMaxPerS: number;
  /** Unit of that limit: max(rate, this fraction of the remembered level), kbit/s. */
  returnUnit: number;
  /**
   * Below this multiple of the minimum rate the probe's unit is max(estimate, base rate), not the
   * estimate: an estimate at the minimum would otherwise climb at 1 %/s of the minimum (v26).
   */
  lowProbe: number;
  /**
   * The same with an RTT-only pinger and both directions busy, outside the search after a collapse
   * (v49p, probe_unit.ts).
   */
  lowProbeShared: number;
  /**
   * Learned recurrence (v28): a cut on a queue above this multiple of the threshold marks a
   * collapse, whose onset is noted for the period search (recurrence.ts); 0 turns the rule off.
   */
  collapseQueue: number;
  /** Directions lowered ahead of a predicted collapse (v28: the upload only). */
  preemptDirs: "ul" | "both";
  /** A busy direction is lowered this long before the predicted onset, s. */
  preemptLeadS: number;
  /** It then holds (no increase) until this long after the predicted onset, s. */
  preemptHoldS: number;
  /** It is lowered to this fraction of its rate. */
  preemptFraction: number;
  /**
   * A cut from `preemptLeadS` before a predicted onset to this long after it keeps the estimate
   * it found (either direction): it measured the collapse, not the level after it (v28p), s.
   */
  collapseKeepS: number;
  /**
   * After a predicted collapse the level is new, as often higher as lower: from `preemptHoldS`
   * after its onset until this long after it (s), both directions probe at once (RTT only, a
   * rise is blamed by load), at least at `discoverPerS` (v29b, docs/controllers.md). 0: off.
   */
  discoverS: number;
  /** Lowest probe speed in that time, fraction of the estimate per s, per direction. */
  discoverPerS: { dl: number; ul: number };
  /**
   * With a FIFO shaper the probes wait in (ingress tbf on an IFB): this fraction of its longest
   * delay is taken off each sample while the direction is busy (load ≥ `highLoad`), since a
   * busy FIFO is full at any rate and its delay says nothing about the link (docs/controllers.md,
   * "Shapers without flow isolation").
   */
  ownFifoFraction: number;
  /**
   * Rate increases smaller than this fraction of the rate in force are held back until they add up
   * (decreases never are): each change is one `tc` call (step_gate.ts, docs/controllers.md "Step
   * gate").
   */
  minStep: number;
  /**
   * Each direction's counter reading is divided by its learned ratio to the rate (v62,
   * counter_ratio.ts): a counter that reads low while the shaper is full.
   */
  counterRatio: boolean;
}

/** The measured defaults (docs/controllers.md). */
export const CAPACITY_DEFAULTS: Readonly<CapacityParams> = {
  votes: 2,
  triggerFraction: 0.5,
  reflectorTrust: true,
  joinedBaseline: true,
  clearFraction: 0.25,
  drainS: 0.5,
  margin: 0.95,
  approachS: 0.5,
  probePerS: 0.01,
  probeDoubleS: 2,
  probeMaxPerS: 0.15,
  recallS: 5,
  upstreamLoad: 0.97,
  attribution: "token",
  tokenS: 5,
  bothProbeQuietS: 5,
  yieldFraction: 0.95,
  spareWaitingUpload: true,
  highLoad: 0.8,
  lightLoad: 0.5,
  idleFraction: { dl: 0.6, ul: 0.4 },
  fadeIdleS: 60,
  fadeIdleLoad: 0.5,
  relaxS: 30,
  deliveredWindowS: 0.3,
  maxCut: 0.5,
  linkNowLoad: 0.97,
  rampGraceS: 1,
  rampGrowth: 0.03,
  climbExempt: true,
  starvedCut: true,
  proberFirstLoad: 0.85,
  proberFirstHoldS: 1,
  proberFirstKeepS: 2,
  proberFirstStartS: 1,
  returnMaxPerS: 1,
  returnUnit: 0.5,
  lowProbe: 1.5,
  lowProbeShared: 3.5,
  collapseQueue: 2,
  preemptDirs: "ul",
  preemptLeadS: 0.4,
  preemptHoldS: 0.3,
  preemptFraction: 0.3,
  collapseKeepS: 1,
  discoverS: 5,
  discoverPerS: { dl: 0.4, ul: 0.25 },
  ownFifoFraction: 0.75,
  minStep: 0.01,
  counterRatio: true,
};

/** Shortest and longest decision period, s. */
const MIN_INTERVAL_S = 0.05;

/** Per-direction state. */
class Direction {
  /** Capacity estimate, kbit/s. */
  cap: number;
  /** Time of the last cut (s; −∞: never). */
  lastCutS = -Infinity;
  /** The estimate before the last isolated cut: where a transient dip is likely to end. */
  recall: number;
  /** The rate the last cut set, kbit/s. */
  lastCutRate = 0;
  /** The last cut wanted to go deeper than the half-rate limit let it. */
  capped = false;
  /** The capacity the last cut measured, kbit/s (capacity_upstream.ts). */
  cutCap = 0;
  /** What the last upstream cut measured after a fall, kbit/s (capacity_upstream.ts). */
  fallCap = 0;
  /** The estimate before that fall, kbit/s (capacity_upstream.ts). */
  fallFrom = 0;
  /** Since when the queue has kept growing (s; NaN: it is not; capacity_upstream.ts). */
  growingSinceS = NaN;
  /** When a follow stop's first decision was held (s; NaN: none; follow_confirm.ts). */
  stopLowS = NaN;
  /** Time a queue was last seen (s; the controller's start until the first one). */
  lastQueueS: number;
  /** Time the direction was last lightly loaded (or the controller started), s. */
  lastLightS: number;
  /** The queue (largest-but-one sample, ms) at the last cut. */
  lastCutQueueMs = 0;
  /** When it last jumped to its target in a slow start at the start (s; −∞: never; v60). */
  jumpS = -Infinity;
  /** The rate in force when the RTT last showed no queue (RTT only), kbit/s. */
  rateAtClear = 0;
  /** The last cut was a starved cut (v43f): the return waits as after a drop (capacity_settle.ts). */
  starvedCut = false;
  /** Recent (time, delivered kbit/s) per decision. */
  readonly delivered: RateSample[] = [];
  /** No increase before this time (s): a hold ahead of a predicted collapse (v28). */
  holdUntilS = -Infinity;
  /** The predicted onset the last pre-emptive cut answered (s). */
  preemptedOnsetS = -Infinity;
  /** Recent raw samples (time, delta ms) for the delay slope. */
  readonly samples: { t: number; d: number }[] = [];
  /** Deep dips below the minimum rate (v32, deep_dip.ts). */
  readonly dip: DeepDip;
  /** The drain batch at a deep dip's end (v36, drain.ts). */
  readonly drain: Drain;
  /** The download only: its cuts at the upload's overshoot (v45d, bystander.ts). */
  readonly bystander?: Bystander;
  /** The download only: its watch for a fed overshoot (v59, fed_overshoot.ts). */
  readonly fed?: FedOvershoot;
  /** The upload only: its ceiling after its own overshoot (v45u, upload_ceiling.ts). */
  readonly ceiling?: UploadCeiling;
  /** Its return near the last overshoot cut's level (v75, near_return.ts). */
  readonly near: NearReturn;
  /** Its cuts that find a dip's level twice (v85, repeated_level.ts). */
  readonly repeated: RepeatedLevel;
  /** Its climb while it waits for the probing turn (v51, wait_climb.ts). */
  readonly wait: WaitClimb;
  /** Its load after a pause (v53, load_start.ts). */
  readonly start: LoadStart;
  /** Holds small rate changes back until they add up (step_gate.ts). */
  readonly gate: StepGate;
  /** Base rate, kbit/s. */
  readonly base: number;
  /** Minimum rate, kbit/s. */
  readonly min: number;

  constructor(
    readonly name: "dl" | "ul",
    rates: { base: number; min: number; minStep: number; startS: number },
    rules: {
      deepDip?: Partial<DeepDipParams>;
      drain?: Partial<DrainParams>;
      bystander?: Bystander;
      fed?: FedOvershoot;
      ceiling?: UploadCeiling;
      waitClimb?: Partial<WaitClimbParams>;
      loadStart?: Partial<LoadStartParams>;
      nearReturn?: Partial<NearReturnParams>;
      repeatedLevel?: Partial<RepeatedLevelParams>;
    } = {},
  ) {
    this.base = rates.base;
    this.min = rates.min;
    this.cap = rates.base;
    this.recall = rates.base;
    this.lastQueueS = this.lastLightS = rates.startS;
    this.dip = new DeepDip(rules.deepDip);
    this.drain = new Drain(rules.drain);
    this.bystander = rules.bystander;
    this.fed = rules.fed;
    this.ceiling = rules.ceiling;
    this.wait = new WaitClimb(rules.waitClimb);
    this.start = new LoadStart(rules.loadStart, rates.startS);
    this.gate = new StepGate(rates.minStep);
    this.near = new NearReturn(rules.nearReturn);
    this.repeated = new RepeatedLevel(rules.repeatedLevel);
  }
}

/** What one direction sees in one decision. */
interface DirectionInput {
  now: number;
  dt: number;
  /** The controller's own rate, kbit/s: the rate in force plus any increase held back. */
  cur: number;
  /** The rate in force, kbit/s. */
  inForce: number;
  thr: number;
  /** The most delivered in one decision of the last window, kbit/s. */
  delivered: number;
  threshold: number;
  deltas: readonly number[];
  at: readonly number[];
  /** When each sample's probe left: receive time minus its queueing part of the RTT. */
  sent: readonly number[];
  /** Whether this direction may be the cause of a rise (RTT-only attribution). */
  suspect: boolean;
  /** A collapse is predicted to begin at this time (s; undefined: none predicted). */
  predictedS: number | undefined;
  /** Whether it may probe beyond its estimate now (RTT-only: one direction at a time). */
  mayProbe: boolean;
  /** Probes sent before this time do not vote: the direction's probing turn began then (s). */
  turnS: number;
  /** Just after a predicted collapse: probe at least at `discoverPerS` (v29b). */
  discovering: boolean;
  /** Within a predicted collapse (v28p): its cuts are not deep dips (v32). */
  inCollapse: boolean;
  /** The download, still ramping up shortly after a load start (TCP slow start). */
  ramping: boolean;
  /**
   * A cut now, delivering under `upstreamLoad` of the rate, is a starved cut (v43f): RTT only,
   * both busy, the upload raised since the RTT was clear, the download not the prober.
   */
  starvable: boolean;
  /** A cut now would be a bystander's (v45d, bystander.ts): RTT only, the download only. */
  bystander: boolean;
  /** RTT only with both directions busy: one probes beyond its estimate at a time (the turn). */
  shared: boolean;
  /** RTT only: this decision's RTT shows no queue. */
  clear: boolean;
  /**
   * RTT only, both busy for a while, a deep dip lately: the turn holder, too, climbs toward what it
   * carried without a queue (v52, wait_climb.ts).
   */
  holderClimb: boolean;
  /**
   * RTT only, both busy outside the both-probe time, and nobody raised into a rise: a cut now is
   * blamed by load (v53 keeps the remembered level at such a cut after a load start).
   */
  byLoad: boolean;
  /** A cut now is at the direction's own overshoot: one-way delays, the prober, or the other light. */
  own: boolean;
}

/**
 * Whether the direction's unconfirmed deep-dip candidate is old enough for a drain batch to
 * speak for it (`candidateS`; v36, drain.ts).
 */
function dipCandidateOld(d: Direction, now: number): boolean {
  return d.dip.candidateAge(now) >= d.drain.params.candidateS;
}

/** The capacity controller. */
export class CapacityController implements Ratecontroller {
  /** Display name. */
  readonly name = "capacity";
  /** Decision period: about one new sample per decision. */
  readonly intervalS: number;
  readonly #p: CapacityParams;
  /** Download rules behind the bottleneck with a tbf/htb shaper (capacity_upstream.ts). */
  readonly #up: UpstreamParams;
  readonly #owd: OwdState;
  readonly #clock: Clock;
  readonly #freshS: number;
  readonly #trust = new ReflectorTrust();
  readonly #joined = new JoinedBaseline();
  /** Each direction's counter against its rate (v62, counter_ratio.ts). */
  readonly #counter = { dl: new CounterRatio(), ul: new CounterRatio() };
  /**
   * The download shaper is a FIFO (tbf, htb without an fq leaf) whose delay is not discounted:
   * the download-behind-the-bottleneck rules (capacity_upstream.ts) apply.
   */
  readonly #sharedQueue: boolean;
  /** Our own FIFOs the probes wait in, whose delay is discounted (docs/controllers.md). */
  readonly #ownFifo: { dl?: FifoSize; ul?: FifoSize };
  /** tc showed a download FIFO that the probes skip (on the LAN egress): no queue is its. */
  readonly #dlProbesSkip: boolean;
  readonly #dl: Direction;
  readonly #ul: Direction;
  #lastSampleS = -Infinity;
  /**
   * Which direction may probe beyond its estimate when both share an RTT-only signal. The first
   * shared decision passes it (`#tokenSinceS` −∞), to the download with v47's `downloadFirst`.
   */
  #token: "dl" | "ul";
  #tokenSinceS = -Infinity;
  /** When the turn passes early: the drain time after the holder's cut (s; ∞: no cut). */
  #passAtS = Infinity;
  /** The download was last spared for the upload's overshoot (v44), and since when (s). */
  #sparedS = -Infinity;
  #sparedFromS = -Infinity;
  /** Onsets of the collapses seen, and their period if stable (v28). */
  readonly #recurrence: Recurrence;
  /** Settling after a lasting drop (capacity_settle.ts). */
  readonly #settle: SettleParams;
  /** The fast probe before the first queue (v47, start_probe.ts). */
  readonly #start: StartProbe;
  /**
   * RTT only with the download loaded: the upload's ISP queue holds the download's ACKs and the
   * RTT cannot tell whose queue it is, so the upload's ceiling applies (v45u).
   */
  #ulCeilingOn = false;

  /** Reads raw samples from `owd`; `params` override the measured defaults (tests, research). */
  constructor(
    settings: CapacitySettings,
    sources: { owd: OwdState; clock: Clock; shaperQueues?: ShaperQueues },
    params: Partial<CapacityParams> & {
      upstream?: Partial<UpstreamParams>;
      recurrence?: Partial<RecurrenceParams>;
      settle?: Partial<SettleParams>;
      deepDip?: Partial<DeepDipParams>;
      drain?: Partial<DrainParams>;
      uploadCeiling?: Partial<UploadCeilingParams>;
      bystander?: Partial<BystanderParams>;
      startProbe?: Partial<StartProbeParams>;
      /** v51, wait_climb.ts. */
      waitClimb?: Partial<WaitClimbParams>;
      /** v53, load_start.ts. */
      loadStart?: Partial<LoadStartParams>;
      /** v59, fed_overshoot.ts. */
      fedOvershoot?: Partial<FedOvershootParams>;
      /** v75, near_return.ts. */
      nearReturn?: Partial<NearReturnParams>;
      /** v85, repeated_level.ts. */
      repeatedLevel?: Partial<RepeatedLevelParams>;
    } = {},
  ) {
    this.#p = { ...CAPACITY_DEFAULTS, ...params };
    this.#settle = { ...SETTLE_DEFAULTS, ...params.settle };
    this.#recurrence = new Recurrence(params.recurrence);
    this.#up = { ...UPSTREAM_DEFAULTS, ...params.upstream };
    this.#owd = sources.owd;
    this.#clock = sources.clock;
    this.#freshS = freshWindowS(settings.tick_interval);
    const q = sources.shaperQueues;
    // A FIFO whose size is known and that the probes wait in: its delay is discounted
    // (ownFifoAllowance), and the download is then treated as behind a flow-isolating shaper.
    this.#ownFifo = {
      dl: q?.dl?.isolating === false && q.dlCarriesProbes ? q.dl.fifo : undefined,
      ul: q?.ul?.isolating === false ? q.ul.fifo : undefined,
    };
    this.#sharedQueue = (q?.dl === undefined ? settings.shaper !== "cake" : !q.dl.isolating) &&
      this.#ownFifo.dl === undefined;
    this.#dlProbesSkip = q?.dl?.isolating === false && !q.dlCarriesProbes;
    this.intervalS = Math.min(
      settings.min_change_interval,
      Math.max(MIN_INTERVAL_S, settings.tick_interval / Math.max(1, settings.num_reflectors)),
    );
    // One start time for every rule that counts from the controller's start.
    const startS = this.#clock.monotonicS();
    const minStep = this.#p.minStep;
    this.#dl = new Direction(
      "dl",
      { base: settings.base_dl_rate, min: settings.min_dl_rate, minStep, startS },
      {
        deepDip: params.deepDip,
        drain: params.drain,
        bystander: new Bystander(params.bystander),
        fed: new FedOvershoot(params.fedOvershoot),
        waitClimb: params.waitClimb,
        loadStart: params.loadStart,
        nearReturn: params.nearReturn,
        repeatedLevel: params.repeatedLevel,
      },
    );
    this.#ul = new Direction(
      "ul",
      { base: settings.base_ul_rate, min: settings.min_ul_rate, minStep, startS },
      {
        deepDip: params.deepDip,
        drain: params.drain,
        ceiling: new UploadCeiling(params.uploadCeiling, startS),
        waitClimb: params.waitClimb,
        loadStart: params.loadStart,
        nearReturn: params.nearReturn,
        repeatedLevel: params.repeatedLevel,
      },
    );
    this.#start = new StartProbe(params.startProbe, startS);
    this.#token = this.#start.params.downloadFirst ? "ul" : "dl";
  }

  /** The capacity estimates, kbit/s (for tests and plots). */
  get capacity(): { dl: number; ul: number } {
    return { dl: this.#dl.cap, ul: this.#ul.cap };
  }

  /** The direction whose turn it is to probe beyond its estimate (RTT only, both busy; tests). */
  get probingTurn(): "dl" | "ul" {
    return this.#token;
  }

  /** Decides both directions from the last raw samples and the delivered throughput. */
  decide(input: TickInput): RateDecision {
    // Read once: each `this.#field` is a keyed load for the interpreter (docs/footprint.md, "v57").
    const p = this.#p, dl = this.#dl, ul = this.#ul;
    const r = p.counterRatio ? this.#corrected(input.readings) : input.readings;
    // Monotonic time, the clock the sample receive times are on.
    const now = this.#clock.monotonicS();
    const view = readSamples(this.#owd, now, this.#freshS);
    if (p.joinedBaseline) {
      const clearMs = Math.min(input.dl_max_delta_owd, input.ul_max_delta_owd) * p.triggerFraction;
      this.#joined.correct(view, { owd: this.#owd, now, clearMs });
    }
    const dlDelivered = recordDelivered(dl, now, r.down_utilisation, p);
    const ulDelivered = recordDelivered(ul, now, r.up_utilisation, p);
    const dlLoad = r.cur_dl_rate > 0 ? dlDelivered / r.cur_dl_rate : 0;
    const ulLoad = r.cur_ul_rate > 0 ? ulDelivered / r.cur_ul_rate : 0;
    ownFifoAllowance(view, {
      dl: dlLoad >= p.highLoad ? fifoMs(this.#ownFifo.dl, r.cur_dl_rate) : 0,
      ul: ulLoad >= p.highLoad ? fifoMs(this.#ownFifo.ul, r.cur_ul_rate) : 0,
    }, p.ownFifoFraction);
    if (p.reflectorTrust) this.#trust.filter(view, { now, high: highSamples(view, input, p) });
    dl.start.observe(now, {
      light: dlLoad < p.lightLoad,
      delivered: dlDelivered,
      min: dl.min,
    });
    ul.start.observe(now, {
      light: ulLoad < p.lightLoad,
      delivered: ulDelivered,
      min: ul.min,
    });
    if (dlLoad < p.lightLoad) dl.lastLightS = now;
    if (ulLoad < p.lightLoad) {
      ul.ceiling?.light(now, this.intervalS);
      ul.lastLightS = now;
    }
    // RTT only with both directions busy: one direction at a time probes beyond its estimate,
    // so a rise it causes is its own (docs/controllers.md, "Direction attribution").
    const shared = view.rttOnly && p.attribution === "token" &&
      dlLoad >= p.highLoad && ulLoad >= p.highLoad;
    if (shared && (now - this.#tokenSinceS > p.tokenS || now > this.#passAtS)) {
      this.#keepTurnGain(r);
      this.#passToken(now);
    }
    const holder = this.#holder();
    this.#ulCeilingOn = view.rttOnly && dlLoad >= p.lightLoad;
    // RTT only: this decision's RTT shows no queue (a waiting direction may climb, v51).
    // (A view with RTT only is never empty: readSamples, and the trust rule keeps a majority.)
    const clear = view.rttOnly && dirClear(
      view,
      "dl",
      Math.min(input.dl_max_delta_owd, input.ul_max_delta_owd) * p.clearFraction,
    );
    if (p.counterRatio) this.#learnCounters(input, view);
    if (view.rttOnly) {
      if (clear) this.#noteClear(r);
      // No fresh sample is no evidence that the RTT is clear.
      ul.ceiling?.observe(now, { clear: clear && view.dl.length > 0, thr: r.up_utilisation });
    }
    // Far from any queue (the capacity may have grown) or just after a predicted collapse (the
    // level is new), both probe: a rise is then blamed by load (v29a, v29b).
    const discovering = this.#discovering(now);
    const both = shared && (discovering ||
      now - dl.lastQueueS >= p.bothProbeQuietS &&
        now - ul.lastQueueS >= p.bothProbeQuietS);
    const holderClimb = shared && this.#holderClimbs(now);
    const dlRamping = now - dl.lastLightS < p.rampGraceS &&
      ramping(dl, p.rampGrowth);
    const probing = shared && !both && (this.#holderRaised(r) || this.#holderDraining(now, view))
      ? this.#token
      : undefined;
    // Both directions' cuts blamed by load (nobody probes alone, v53's keep).
    const byLoad = shared && !both && probing === undefined;
    const attributed = attribute(view, {
      dlLoad,
      ulLoad,
      probing,
      dlRamping,
      uploadWaits: p.spareWaitingUpload && shared && !both && this.#token === "dl" &&
        r.cur_ul_rate <= ul.rateAtClear,
    });
    const { dlDeltas, ulDeltas, ulSuspect } = attributed;
    // RTT only: the upload raised its rate since the RTT was last clear (its probe may have made
    // the queue that holds the download's ACKs: v43f, v44).
    const ulRaised = r.cur_ul_rate > ul.rateAtClear;
    const dlSuspect = attributed.dlSuspect && !this.#spareDownload(r, {
      now,
      both,
      rttOnly: view.rttOnly,
      ulRaised,
      suspect: attributed.dlSuspect && ulSuspect && dlLoad < p.upstreamLoad && !dlRamping,
    });
    const sent = view.at.map((t, i) => t - Math.max(0, view.dl[i] + view.ul[i]) / 1000);
    const predictedS = p.collapseQueue > 0 ? this.#recurrence.next(now, p.preemptHoldS) : undefined;
    const kept = this.#collapseNow(now) ? { dl: dl.cap, ul: ul.cap } : undefined;
    const nextDl = this.#direction(dl, {
      now,
      dt: r.dt,
      cur: dl.gate.from(r.cur_dl_rate),
      inForce: r.cur_dl_rate,
      thr: r.down_utilisation,
      delivered: dlDelivered,
      mayProbe: !shared || both || this.#token === "dl",
      turnS: shared && this.#token === "dl" ? this.#tokenSinceS : -Infinity,
      threshold: input.dl_max_delta_owd,
      deltas: dlDeltas,
      at: view.at,
      sent,
      suspect: dlSuspect,
      predictedS: p.preemptDirs === "both" ? predictedS : undefined,
      discovering,
      inCollapse: kept !== undefined,
      ramping: dlRamping,
      starvable: p.starvedCut && shared &&
        (ulRaised || now - this.#sparedS <= p.proberFirstKeepS) &&
        !(this.#token === "dl" && !both && r.cur_dl_rate > dl.rateAtClear),
      bystander: shared && dl.bystander?.test(now, {
            uploadCutS: ul.lastCutS,
            thr: r.down_utilisation,
            inForce: r.cur_dl_rate,
            recall: dl.recall,
          }) === true,
      shared,
      clear,
      holderClimb,
      byLoad,
      own: !view.rttOnly || probing === "dl" || ulLoad < p.lightLoad,
    });
    const nextUl = this.#direction(ul, {
      now,
      dt: r.dt,
      cur: ul.gate.from(r.cur_ul_rate),
      inForce: r.cur_ul_rate,
      thr: r.up_utilisation,
      delivered: ulDelivered,
      mayProbe: !shared || both || this.#token === "ul",
      turnS: shared && this.#token === "ul" ? this.#tokenSinceS : -Infinity,
      threshold: input.ul_max_delta_owd,
      deltas: ulDeltas,
      at: view.at,
      sent,
      suspect: ulSuspect,
      predictedS,
      discovering,
      inCollapse: kept !== undefined,
      ramping: false,
      starvable: false,
      bystander: false,
      shared,
      clear,
      holderClimb,
      byLoad,
      own: !view.rttOnly || probing === "ul" || dlLoad < p.lightLoad,
    });
    if (kept !== undefined) {
      // A cut within a predicted collapse measured the collapse: the estimate stays, so the
      // return after it is not limited as toward a level that may no longer hold (v28p).
      if (dl.lastCutS === now) dl.cap = Math.max(dl.cap, kept.dl);
      if (ul.lastCutS === now) ul.cap = Math.max(ul.cap, kept.ul);
    }
    // Only a cut made in this decision can mark a collapse.
    if (p.collapseQueue > 0 && dl.lastCutS === now) {
      this.#noteCollapse({
        now,
        deltas: dlDeltas,
        sent,
        threshold: input.dl_max_delta_owd,
      });
    }
    if (p.collapseQueue > 0 && ul.lastCutS === now) {
      this.#noteCollapse({
        now,
        deltas: ulDeltas,
        sent,
        threshold: input.ul_max_delta_owd,
      });
    }
    // An index loop, not `Math.max(...view.at)`: the interpreter pays for a spread call and for
    // for-of's iterator (docs/footprint.md, "v57").
    for (let i = 0; i < view.at.length; i++) {
      this.#lastSampleS = Math.max(this.#lastSampleS, view.at[i]);
    }
    // The turn passes once the holder's cut has drained its queue: passed at once, the next
    // holder's probe would start on top of that queue and be blamed for it (v26).
    if (shared && holder.lastCutS === now) {
      this.#passAtS = Math.min(this.#passAtS, now + p.drainS);
    }
    return { next_dl_rate: nextDl, next_ul_rate: nextUl };
  }

  /**
   * Whether the turn holder climbs as a waiting direction does (v52, wait_climb.ts): a deep dip was
   * confirmed in either direction within `holderDipS` (the link fades below its floor: bystander
   * cuts keep taking each direction's estimate down) and neither direction was lightly loaded
   * within `holderBusyS` (sustained two-way load, not a burst).
   */
  #holderClimbs(now: number): boolean {
    return holderClimbs(this.#dl.wait.params, {
      sinceDipS: Math.min(this.#dl.dip.sinceConfirmed(now), this.#ul.dip.sinceConfirmed(now)),
      busyS: now - Math.max(this.#dl.lastLightS, this.#ul.lastLightS),
    });
  }

  /**
   * Whether `now` lies from `preemptHoldS` to `discoverS` after a predicted (or noted) collapse
   * onset: the level after it is new (v29b).
   */
  #discovering(now: number): boolean {
    if (!(this.#p.collapseQueue > 0 && this.#p.discoverS > 0)) return false;
    const at = this.#recurrence.recent(now, this.#p.discoverS);
    return at !== undefined && now >= at + this.#p.preemptHoldS;
  }

  /** Whether `now` lies in a predicted collapse: from `preemptLeadS` before its onset to `collapseKeepS` after. */
  #collapseNow(now: number): boolean {
    if (!(this.#p.collapseQueue > 0)) return false;
    const at = this.#recurrence.next(now, this.#p.collapseKeepS);
    return at !== undefined && now >= at - this.#p.preemptLeadS;
  }

  /**
   * A cut made in this decision on a queue above `collapseQueue` times the threshold marks a
   * collapse: its onset (the earliest send time of the samples at that level) is noted for the
   * period search (v28, docs/controllers.md). Called for a direction that cut in this decision.
   */
  #noteCollapse(
    x: { now: number; deltas: readonly number[]; sent: readonly number[]; threshold: number },
  ): void {
    if (secondLargest(x.deltas) < this.#p.collapseQueue * x.threshold) return;
    // Dated by the samples at the collapse's level: one a little above the threshold may
    // be an earlier, smaller queue (an overshoot) and date the onset too early (v28).
    const level = this.#p.collapseQueue * x.threshold;
    let onset = x.now;
    for (let i = 0; i < x.deltas.length; i++) {
      if (x.deltas[i] > level && x.sent[i] < onset) onset = x.sent[i];
    }
    this.#recurrence.note(onset);
  }

  /**
   * RTT only, both busy: within its drain time after a cut, a queue no larger than the one that
   * cut saw is still the turn holder's own, draining; it is not the other direction's (v26).
   */
  #holderDraining(now: number, view: SampleView): boolean {
    const d = this.#holder();
    if (now - d.lastCutS >= this.#p.drainS) return false;
    for (let i = 0; i < view.dl.length; i++) {
      if (view.dl[i] + view.ul[i] > d.lastCutQueueMs) return false;
    }
    return true;
  }

  /**
   * In the both-probe time (or within `proberFirstStartS` of the download's load start, v45dq), a
   * rise while the upload has raised its rate since the RTT was clear and the download delivers
   * well under its rate: the upload's overshoot may hold the download's ACKs, so only the upload is
   * cut; the download is spared for `proberFirstHoldS` from the first such decision, and cut if the
   * queue outlasts that (v44, docs/controllers.md).
   */
  #spareDownload(
    r: TickInput["readings"],
    x: { now: number; both: boolean; rttOnly: boolean; ulRaised: boolean; suspect: boolean },
  ): boolean {
    const p = this.#p;
    const started = x.rttOnly && x.now - this.#dl.lastLightS < p.proberFirstStartS;
    const spare = p.proberFirstLoad > 0 && (x.both || started) && x.suspect && x.ulRaised &&
      r.down_utilisation < p.proberFirstLoad * r.cur_dl_rate;
    if (spare) {
      if (x.now - this.#sparedS > p.proberFirstHoldS) this.#sparedFromS = x.now;
      this.#sparedS = x.now;
    }
    return x.now - this.#sparedFromS < p.proberFirstHoldS;
  }

  /** The readings with each counter divided by its learned ratio to the rate (v62). */
  #corrected(raw: TickInput["readings"]): TickInput["readings"] {
    const dl = this.#counter.dl.ratio, ul = this.#counter.ul.ratio;
    if (dl === 1 && ul === 1) return raw;
    return {
      ...raw,
      down_utilisation: raw.down_utilisation / dl,
      up_utilisation: raw.up_utilisation / ul,
    };
  }

  /** Feeds each counter's learner this decision's raw reading and whether it saw a queue (v62). */
  #learnCounters(input: TickInput, view: SampleView): void {
    const raw = input.readings, f = this.#p.clearFraction;
    this.#counter.dl.observe({
      thr: raw.down_utilisation,
      rate: raw.cur_dl_rate,
      clear: dirClear(view, "dl", input.dl_max_delta_owd * f),
    });
    this.#counter.ul.observe({
      thr: raw.up_utilisation,
      rate: raw.cur_ul_rate,
      clear: dirClear(view, "ul", input.ul_max_delta_owd * f),
    });
  }

  /**
   * RTT only, no reflector showing a queue: remembers both rates, so that a later rise can be
   * checked against what changed since (docs/controllers.md, "Turn rules").
   */
  #noteClear(r: TickInput["readings"]): void {
    this.#dl.rateAtClear = r.cur_dl_rate;
    this.#ul.rateAtClear = r.cur_ul_rate;
  }

  /**
   * Whether the direction holding the probing turn raised its rate since the RTT was last clear:
   * if not, a rise is not its probe's doing (the other direction's capacity fell), and the rise
   * is attributed by load as when nobody probes.
   */
  #holderRaised(r: TickInput["readings"]): boolean {
    return this.#holderRate(r) > this.#holder().rateAtClear;
  }

  /** The direction holding the probing turn. */
  #holder(): Direction {
    return this.#token === "dl" ? this.#dl : this.#ul;
  }

  /** The rate in force of the direction holding the probing turn. */
  #holderRate(r: TickInput["readings"]): number {
    return this.#token === "dl" ? r.cur_dl_rate : r.cur_ul_rate;
  }

  /**
   * Ahead of a predicted collapse (v28): once per predicted onset, from `preemptLeadS` before it,
   * a busy direction drops to `preemptFraction` of its rate and holds until `preemptHoldS` after
   * it; the estimate is kept, so the return afterwards goes straight back toward it.
   */
  #preempt(d: Direction, x: DirectionInput): number | undefined {
    const p = this.#p;
    const at = x.predictedS;
    if (at === undefined || d.preemptedOnsetS === at) return undefined;
    if (x.now < at - p.preemptLeadS || x.now > at) return undefined;
    if (!(x.inForce > 0 && x.thr / x.inForce >= p.highLoad)) return undefined;
    d.preemptedOnsetS = at;
    d.holdUntilS = at + p.preemptHoldS;
    d.recall = Math.max(d.recall, d.cap);
    return Math.max(d.min, x.cur * p.preemptFraction);
  }

  /**
   * One decision's return toward `target`: after a bystander's cut quickly up to what the download
   * carried without a queue before it (v45d, bystander.ts), otherwise as `returnStep`, slowed near
   * the level the last overshoot cut measured (v75, near_return.ts).
   */
  #returnStep(d: Direction, x: { now: number; cur: number; target: number; dt: number }): number {
    const b = d.bystander;
    const quickTo = b?.quickTo(x.cur);
    if (b !== undefined && quickTo !== undefined) {
      const target = Math.min(x.target, quickTo);
      return returnStep(
        d,
        { ...x, target, settled: false, approachS: b.params.approachS },
        this.#p,
      );
    }
    const step = returnStep(d, { ...x, settled: settling(d, x.now, this.#settle) }, this.#p);
    return d.near.limit(x.now, { cur: x.cur, step, dt: x.dt });
  }

  /**
   * Within a deep dip's context (a candidate cut at least `candidateS` old, or the memory of a
   * confirmed one), looks for a drain batch in this decision's samples; returns the deltas with
   * the replies sent up to the last batch taken as clear (v36, drain.ts).
   */
  #drained(d: Direction, x: DirectionInput): readonly number[] {
    const p = d.drain.params;
    if (!d.drain.enabled) return x.deltas;
    if (!(d.dip.keepsMemory(x.now) || dipCandidateOld(d, x.now))) return x.deltas;
    if (d.drain.see(x.now, x) && p.levelFraction[d.name] > 0) {
      // The batch's spacing measures the capacity back after the dip: the level the return aims
      // at is at least a fraction of it (v39: the remembered one is under 0.71 of the capacity
      // at a quarter of lte's drains; the upload's smaller fraction keeps lte's p95).
      const shown = p.levelFraction[d.name] * d.drain.capacityShown(x.inForce);
      d.recall = Math.max(d.recall, Math.min(d.base, shown));
    }
    return d.drain.fresh(x.deltas, x.sent);
  }

  /** Whether either direction confirmed a deep dip within `fadeIdleS` (v34). */
  #fadedWithin(now: number): boolean {
    return this.#p.fadeIdleS > 0 &&
      (this.#dl.dip.confirmedWithin(now, this.#p.fadeIdleS) ||
        this.#ul.dip.confirmedWithin(now, this.#p.fadeIdleS));
  }

  /** What the upstream download rules see in this decision. */
  #upstreamInput(d: Direction, x: DirectionInput): UpstreamInput {
    return {
      now: x.now,
      cur: x.inForce,
      thr: x.thr,
      threshold: x.threshold,
      triggerFraction: this.#p.triggerFraction,
      votes: this.#p.votes,
      deltas: x.deltas,
      sent: x.sent,
      slopeMsPerS: slope(d.samples),
      probesSkipShaper: this.#dlProbesSkip,
      prevThr: d.delivered.length >= 2 ? d.delivered[d.delivered.length - 2].kbit : x.thr,
      // Samples above the whole threshold, sent after the last cut's drain time.
      drainedVotes: countAboveSince(x.deltas, x.sent, {
        above: x.threshold,
        since: d.lastCutS + this.#p.drainS,
      }),
    };
  }

  /**
   * A probing turn that ends without a cut proved the holder's rate free of queue: its estimate
   * rises so that waiting (at `yieldFraction` of it) keeps that rate instead of giving back part of
   * the turn's gain (v23, docs/controllers.md).
   */
  #keepTurnGain(r: TickInput["readings"]): void {
    const d = this.#holder();
    if (d.lastCutS < this.#tokenSinceS) {
      d.cap = Math.max(d.cap, this.#holderRate(r) / this.#p.yieldFraction);
    }
  }

  #passToken(now: number): void {
    this.#token = this.#token === "dl" ? "ul" : "dl";
    this.#tokenSinceS = now;
    this.#passAtS = Infinity;
  }

  /**
   * An upload cut that is no collapse and keeps the rate at or above the minimum may have
   * measured the capacity its own return or probe overshot (v45u, upload_ceiling.ts). Called
   * before the cut changes the estimate.
   */
  #noteCeiling(
    d: Direction,
    x: { now: number; cur: number; estimate: number; rate: number },
  ): void {
    if (d.ceiling === undefined || !this.#ulCeilingOn || d.capped || x.rate < d.min) return;
    d.ceiling.cut({
      now: x.now,
      cur: x.cur,
      known: d.cap * this.#p.margin,
      estimate: x.estimate,
    });
  }

  /** One direction's rate for the loop: its aim, small increases held back (step_gate.ts). */
  #direction(d: Direction, x: DirectionInput): number {
    const next = this.#aim(d, x);
    return d.gate.pass(x.inForce, next);
  }

  /** The rate one direction aims at, from its own rate `x.cur`. */
  #aim(d: Direction, x: DirectionInput): number {
    const p = this.#p;
    const { now, cur } = x;
    const deliveredKbit = x.delivered;
    // New raw samples for the delay slope.
    for (let i = 0; i < x.at.length; i++) {
      if (x.at[i] > this.#lastSampleS) d.samples.push({ t: x.at[i], d: x.deltas[i] });
    }
    while (d.samples.length > 0 && d.samples[0].t < now - p.drainS) d.samples.shift();

    const trigger = x.threshold * p.triggerFraction;
    const clear = x.threshold * p.clearFraction;
    const pre = this.#preempt(d, x);
    if (pre !== undefined) return pre;
    // After a deep dip, a drain batch shows the capacity back: the queue its replies (and older
    // ones) show has gone (v36, drain.ts).
    const drained = this.#drained(d, x);
    if (drained !== x.deltas) x = { ...x, deltas: drained };
    // A queue the other direction explains (RTT only) neither holds nor cuts this one.
    const aboveClear = x.deltas.length > 0 &&
      countAbove(x.deltas, clear) >= Math.min(p.votes, x.deltas.length);
    const queued = x.suspect && aboveClear;
    // The probe's acceleration restarts only after a queue at the trigger level: with RTT only,
    // two directions' jitter often lifts two reflectors over the clear level (v23).
    const risen = countAbove(x.deltas, trigger) >= Math.min(p.votes, x.deltas.length);
    if (x.suspect && x.deltas.length > 0 && risen) {
      d.lastQueueS = now;
    }
    // Delivered against the rate in force: the rate that let it through (step_gate.ts).
    const load = x.inForce > 0 ? x.thr / x.inForce : 0;
    // Its whole rate delivered without a queue: what the bystander's return (v45d) and the wait's
    // climb (v51) may go back to.
    if (x.thr >= p.upstreamLoad * x.inForce && load >= p.highLoad && !risen) {
      d.bystander?.noteClear(now, Math.min(x.thr, d.base));
      d.wait.noteClear(now, x.thr);
    }

    // Cut: enough reflectors, each by its last sample, see more than the threshold.
    const votes = countVotes(d, x, { trigger, drainS: p.drainS });
    // Download behind the bottleneck with a tbf/htb shaper: the counters' own rules first.
    const up = this.#up.enabled && d.name === "dl" && this.#sharedQueue && x.suspect
      ? this.#upstreamInput(d, x)
      : undefined;
    if (up !== undefined) {
      const cut = upstreamCut(d, up, this.#up) ?? upstreamGrowthCut(d, up, this.#up);
      if (cut !== undefined) {
        d.starvedCut = false;
        return cut;
      }
      if (load >= p.lightLoad) {
        const stop = upstreamFollowStop(d, { ...up, margin: p.margin }, this.#up);
        if (stop !== undefined) return stop;
      }
    }
    // Download: our shaper sits behind the bottleneck, so a queue a cut can drain means the link
    // delivers less than our rate. Delivering (on average) our whole rate, the queue is our own
    // shaper's (a FIFO such as tbf, that the probes wait in) or someone else's; cutting deeper
    // would only lengthen it.
    // Only with a shaper whose queue the probes share (tbf, htb: no flow isolation); CAKE
    // serves the probes first. A cut held back by the half-rate limit may have landed right on
    // the capacity: then the link delivers all of our rate while the old queue stands, so it
    // may go on. A download still ramping after a load start delivers less than its rate over
    // a window that holds the idle decisions before it: that is its slow start, not a bottleneck
    // before our shaper (docs/controllers.md, "In the e2e testbed").
    const ours = !this.#sharedQueue || d.name === "ul" ||
      (meanDelivered(d) < p.upstreamLoad * x.inForce && !x.ramping &&
        !climbing(d, { thr: x.thr, inForce: x.inForce }, p)) ||
      (d.capped && now - d.lastCutS < p.recallS);
    if (
      ours && x.suspect && votes >= Math.min(p.votes, x.deltas.length) && x.deltas.length > 0
    ) {
      const queueS = secondLargest(x.deltas) / 1000;
      // The link, not our shaper, limited this decision, and did not collapse: what it delivers
      // now is its rate. The window's largest may still hold our own queue draining at the old
      // rate (download) or the senders' old pace (upload) just after a fall (v38).
      const linkNow = x.thr < p.linkNowLoad * x.inForce && x.thr >= p.maxCut * x.inForce;
      let estimate = Math.min(linkNow ? x.thr : deliveredKbit, x.inForce);
      // Upload: our shaper is before the bottleneck, so the counters show what we let through,
      // not what the link carries; the queue's growth rate says how much too much that was.
      if (d.name === "ul") estimate /= 1 + slope(d.samples) / 1000;
      d.capped = estimate < cur * p.maxCut;
      const before = Math.max(d.cap, d.recall);
      estimate = Math.max(estimate, cur * p.maxCut);
      // A cut long after the previous one may be a transient dip: remember where we were. More
      // cuts while still held down keep that memory; a mild cut soon after the rate had risen
      // again means the capacity really is lower: forget it.
      const drain = Math.max(0.5, 1 - queueS / p.drainS);
      this.#noteCeiling(d, { now, cur, estimate, rate: estimate * p.margin * drain });
      d.dip.cut(now, {
        lastCutS: d.lastCutS,
        level: Math.max(d.cap, d.recall),
        belowMin: estimate * p.margin * drain < d.min,
        predicted: x.inCollapse,
      });
      // A starved cut may have measured the ACKs' wait in the upload's queue, not the link:
      // it keeps the remembered level, at least the estimate before it (v43f).
      const starved = x.starvable && x.thr < p.upstreamLoad * x.inForce;
      // So does a bystander's cut at the upload's overshoot (v45d, bystander.ts), and within a
      // load's first seconds after a pause a cut blamed by load under the level: that level is what
      // earlier loads left, and the other direction's queue says nothing of this one's (v53).
      const keep = x.byLoad && d.start.within(now) &&
        cur < d.start.params.keepUnder * Math.max(d.cap, d.recall);
      // The rate had risen past the last cut's (no collapse since): the cut may find the level lower.
      const rose = cur > d.lastCutRate * 1.02 && !d.capped;
      if (now - d.lastCutS > p.recallS) d.recall = Math.max(d.cap, estimate);
      else if (starved || x.bystander || keep) d.recall = Math.max(d.recall, d.cap);
      // A collapse (a cut held back by the half-rate limit) is a new dip, not a finding that
      // the level is lower: it keeps the memory (v19, docs/controllers.md); so does any cut soon
      // after a deep dip below the minimum rate (v32, deep_dip.ts).
      else if (rose && !d.dip.keepsMemory(now)) {
        d.recall = estimate;
      }
      // A return's overshoot: the rate rose past what the previous cut measured, soon after it.
      const overshoot = rose && now - d.lastCutS <= p.recallS && cur > d.cutCap * p.margin;
      // One that our own backlog fed (v59, fed_overshoot.ts): the download.
      d.fed?.cut(now, {
        rose: overshoot,
        from: d.cutCap,
        sinceLastS: now - d.lastCutS,
        queueMs: queueS * 1000,
        thresholdMs: x.threshold,
        full: x.thr >= p.upstreamLoad * x.inForce,
        cur,
      });
      // An overshoot cut (not in a load's first seconds after a pause, v53): the return after it
      // slows near what it measured (v75, near_return.ts).
      d.near.cut(now, {
        overshoot: overshoot && !d.start.within(now),
        level: estimate,
      });
      // A cut after a return that finds the level a cut limited by the link found before: a dip
      // that lasts; the return after it slows near that level too (v85, repeated_level.ts).
      const found = d.repeated.cut({
        delivered: Math.min(x.thr, x.inForce),
        linkLimited: x.thr < p.upstreamLoad * x.inForce,
        rose: cur > d.lastCutRate * 1.02 && now - d.lastCutS <= p.recallS,
        before,
      });
      if (found !== undefined) d.near.cut(now, { overshoot: true, level: found });
      if (x.own) d.start.ownCut();
      d.bystander?.cut(now, { bystander: x.bystander, starved });
      d.cap = d.cutCap = estimate;
      d.starvedCut = starved;
      d.lastCutS = now;
      d.lastQueueS = now;
      d.lastCutQueueMs = queueS * 1000;
      d.lastCutRate = Math.max(d.min, Math.min(cur, estimate * p.margin * drain));
      return d.lastCutRate;
    }
    // A queue still standing a while after a cut to the minimum rate: a deep dip (v32); a drain
    // batch after such a cut shows that its queue stood until then (v36).
    const level = d.drain.after(now) && dipCandidateOld(d, now)
      ? d.dip.confirmNow(now)
      : d.dip.check(now, { queued, atMin: cur <= d.min * 1.01 });
    if (level !== undefined) {
      d.recall = Math.max(d.recall, level);
      d.ceiling?.clear();
    }
    const held = now - d.lastCutS < p.drainS && !d.drain.after(d.lastCutS);
    if (held || queued || now < d.holdUntilS) return cur;

    // Still in a slow start that spans decisions at the start: to the target at once (v60).
    // (Tested under `highLoad` first: a saturated decision, most of them, builds no input for it.)
    const jump = load < p.highLoad && this.#start.jumps(d, {
      ramping: x.ramping,
      load,
      lightLoad: p.lightLoad,
      highLoad: p.highLoad,
      queue: aboveClear,
    });
    if (load >= p.highLoad || jump) {
      // Uncongested delivery is a lower bound on the capacity.
      if (deliveredKbit > d.cap) d.cap = deliveredKbit;
      const quiet = now - d.lastQueueS;
      let speed = Math.min(p.probeMaxPerS, p.probePerS * 2 ** (quiet / p.probeDoubleS));
      // After a predicted collapse the level is new: look for it quickly (v29b).
      // Not for a while after a fed overshoot: at 1–2 Mbit/s each fast climb past the capacity
      // costs our shaper's backlog as queue (v59, fed_overshoot.ts).
      if (x.discovering && !d.fed?.blocksDiscovery(now)) {
        speed = Math.max(speed, p.discoverPerS[d.name]);
      }
      // Before its first queue the estimate is the unmeasured base rate: far from any known
      // capacity, the download probes fast (v47).
      speed = this.#start.speed(d, speed);
      // After a pause, until its own overshoot is cut, far from any known level (v53).
      const fast = d.start.probe(now, { speed, perS: p.probePerS, maxPerS: p.probeMaxPerS });
      speed = fast.speed;
      // Quickly back to just under the estimate, then probe beyond it: gently at first, faster
      // the longer no queue shows up (the capacity may have grown).
      // After the upload's own overshoot, the return stops just under what it measured (v45u).
      const target = Math.min(
        Math.max(d.cap, d.recall) * (x.mayProbe ? p.margin : p.yieldFraction),
        this.#ulCeilingOn && d.ceiling !== undefined
          ? d.ceiling.target(now, { thr: x.thr, margin: p.margin })
          : Infinity,
      );
      const unit = fast.far ? farUnit(d) : probeUnit(d, x, p);
      let next = x.mayProbe ? cur + unit * speed * x.dt : cur;
      if (jump) d.jumpS = now;
      if (cur < target) {
        next += jump ? target - cur : this.#returnStep(d, { now, cur, target, dt: x.dt });
      }
      if (up !== undefined && x.mayProbe) {
        next = upstreamProbe(d, { cur, thr: x.thr, dt: x.dt, quietS: quiet, next }, this.#up);
      }
      // The turn holder probes beyond the target; a waiting direction stops at it.
      const aimed = x.mayProbe ? next : Math.min(next, target);
      // Under what it carried without a queue lately, a direction climbs all the same while the
      // RTT is clear: a waiting one gently (v51), the turn holder after a deep dip faster than its
      // probe (v52; wait_climb.ts).
      const climbs = x.mayProbe ? x.holderClimb : x.shared;
      const climbed = climbs
        ? d.wait.climb(now, {
          cur,
          dt: x.dt,
          clear: x.clear,
          perS: x.mayProbe ? d.wait.params.holderPerS : undefined,
        })
        : undefined;
      return climbed === undefined ? aimed : Math.max(aimed, climbed);
    }
    if (load < p.lightLoad) {
      d.ceiling?.clear();
      d.near.forget();
      d.cap += (d.base - d.cap) * Math.min(1, x.dt / p.relaxS);
      if (d.name === "ul" && deliveredKbit < p.fadeIdleLoad * d.min && this.#fadedWithin(now)) {
        return d.min;
      }
      return cur + (d.cap * p.idleFraction[d.name] - cur) * Math.min(1, x.dt / p.approachS);
    }
    return cur;
  }
}

/**
 * Records this decision's delivered throughput and returns the most delivered in one decision
 * of the last window: when a queue stands at the bottleneck that is its rate, while the mean
 * would include the ramp of a load that just started.
 */
function recordDelivered(d: Direction, now: number, kbit: number, p: CapacityParams): number {
  const sample = { t: now, kbit: Number.isFinite(kbit) ? kbit : 0 };
  pushTimed(d.delivered, sample, { spanS: p.deliveredWindowS, keep: 1 });
  return maxSince(d.delivered);
}

/**
 * Reflectors whose last sample votes for a cut: above `trigger`, and sent after the last cut's
 * drain time (a queue the cut already answered does not count twice) and after the direction's
 * probing turn began (RTT only: the queue of the previous turn's prober is not its doing). A
 * sample that exceeds the queue the direction's last cut saw by `trigger` votes whenever it was
 * sent: the queue grew in spite of the cut, the capacity fell again (docs/controllers.md,
 * "Turn rules").
 */
function countVotes(
  d: Direction,
  x: DirectionInput,
  o: { trigger: number; drainS: number },
): number {
  const trigger = o.trigger;
  const since = Math.max(d.lastCutS + o.drainS, x.turnS);
  const grown = d.lastCutQueueMs + trigger;
  let votes = 0;
  for (let i = 0; i < x.deltas.length; i++) {
    if (x.deltas[i] <= trigger) continue;
    if (x.deltas[i] > grown || x.sent[i] > since) votes++;
  }
  return votes;
}

/** Whether the delivery grew by more than `by` (a fraction) over the delivered window. */
function ramping(d: Direction, by: number): boolean {
  const n = d.delivered.length;
  return n >= 2 && d.delivered[n - 1].kbit > (1 + by) * d.delivered[0].kbit;
}

/**
 * One decision's step toward `target` from below: a time constant of `approachS` (or
 * `x.approachS`), and above the estimate the last cut measured (a level known to fit) no faster
 * than `returnMaxPerS` × max(rate, `returnUnit` × the remembered level) per s, so a return to a
 * remembered level that no longer holds (a lasting drop, a lower level after a handover) overshoots
 * by little (docs/controllers.md, v22); while `settled` (capacity_settle.ts) not above that
 * estimate.
 */
function returnStep(
  d: Direction,
  x: { cur: number; target: number; dt: number; settled: boolean; approachS?: number },
  p: CapacityParams,
): number {
  const step = (x.target - x.cur) * Math.min(1, x.dt / (x.approachS ?? p.approachS));
  const known = d.cap * p.margin;
  if (d.lastCutS === -Infinity || x.cur + step <= known) return step;
  if (x.settled) return Math.max(0, known - x.cur);
  const limit = Math.max(x.cur, p.returnUnit * d.recall) * p.returnMaxPerS * x.dt;
  return Math.max(known - x.cur, Math.min(step, limit));
}

/**
 * Whether the download is climbing with the link keeping up: this decision delivered (nearly)
 * the whole rate in force and the delivery grew over the window. Its window mean then trails
 * its rate because the rate rose, not because a bottleneck before our shaper held it (v43: after
 * an opposite queue drained, such a mean cut the download's return and ended its fast probe).
 */
function climbing(
  d: Direction,
  x: { thr: number; inForce: number },
  p: CapacityParams,
): boolean {
  return p.climbExempt && x.thr >= p.upstreamLoad * x.inForce && ramping(d, p.rampGrowth);
}

/** The mean delivered throughput over the window, kbit/s. */
function meanDelivered(d: Direction): number {
  let sum = 0;
  for (let i = 0; i < d.delivered.length; i++) sum += d.delivered[i].kbit;
  return d.delivered.length > 0 ? sum / d.delivered.length : 0;
}

/** What attribution knows about the two directions. */
interface Loads {
  /** Download delivered (window max) / download rate. */
  dlLoad: number;
  /** Upload delivered (window max) / upload rate. */
  ulLoad: number;
  /** The direction probing beyond its estimate while both are busy (RTT only), if any. */
  probing: "dl" | "ul" | undefined;
  /** The download's delivery is still growing shortly after a load start (TCP slow start). */
  dlRamping: boolean;
  /**
   * RTT only, both busy: the download holds the probing turn and the upload has not raised its
   * rate since the RTT was last clear (v46).
   */
  uploadWaits: boolean;
}

/**
 * Per-direction deltas and which directions may be cut (docs/controllers.md, "Direction
 * attribution"). With OWD both directions have their own deltas. With RTT only the RTT delta
 * goes to each direction that carries load (at least half the busier one's). When both do, the
 * counters tell more: a download whose bottleneck is before our shaper delivers less than our
 * rate, and an upload queue needs our upload rate at or beyond its known capacity; a direction
 * without its signature is spared when the other shows its own.
 */
function attribute(view: SampleView, l: Loads): {
  dlDeltas: number[];
  ulDeltas: number[];
  dlSuspect: boolean;
  ulSuspect: boolean;
} {
  if (!view.rttOnly) {
    return { dlDeltas: view.dl, ulDeltas: view.ul, dlSuspect: true, ulSuspect: true };
  }
  const rtt = view.dl.map((v, i) => v + view.ul[i]);
  // A load above 1 is the delivered window's memory of the rate before a cut, not a busier
  // direction: counted as such, it spared the other direction's queue (docs/controllers.md, T2).
  const dlLoad = Math.min(1, l.dlLoad), ulLoad = Math.min(1, l.ulLoad);
  const busiest = Math.max(dlLoad, ulLoad);
  let dlSuspect = dlLoad >= 0.5 * busiest;
  let ulSuspect = ulLoad >= 0.5 * busiest;
  if (dlSuspect && ulSuspect && l.probing !== undefined) {
    // The prober is the suspect; the download also when it delivers less than its rate (its
    // bottleneck is before our shaper: the ISP queue is its own), unless it is still ramping up.
    dlSuspect = l.probing === "dl" || (l.dlLoad < UPSTREAM_LOAD && !l.dlRamping);
    ulSuspect = l.probing === "ul";
  } else if (dlSuspect && ulSuspect && l.uploadWaits && l.dlLoad >= UPSTREAM_LOAD) {
    // Nobody probed into the rise (turn rule 1), and the download, whose turn it is, delivers its
    // whole rate: its ACKs do not wait in an upload queue (v44's signature), and the upload waits
    // where the RTT was clear. The download's own queue (its rate at a capacity that wavers) used
    // to cut the waiting upload too, once every few seconds on starlink (v46, docs/controllers.md).
    ulSuspect = false;
  }
  return { dlDeltas: rtt, ulDeltas: rtt, dlSuspect, ulSuspect };
}

/** Whether every reflector's last RTT sample is under the clear level (no sample: clear). */
/** Whether each sample of `view` is above the trigger (with RTT only, the RTT's rise). */
function highSamples(view: SampleView, input: TickInput, p: Readonly<CapacityParams>): boolean[] {
  const dlT = input.dl_max_delta_owd * p.triggerFraction;
  const ulT = input.ul_max_delta_owd * p.triggerFraction;
  const rttT = Math.min(dlT, ulT);
  return view.dl.map((dl, i) =>
    view.rttOnly ? dl + view.ul[i] > rttT : dl > dlT || view.ul[i] > ulT
  );
}

/**
 * Whether a direction's fresh samples show no queue: each under `below` ms (RTT only: each whole
 * RTT); false without a fresh sample.
 */
function dirClear(view: SampleView, dir: "dl" | "ul", below: number): boolean {
  if (view.dl.length === 0) return false;
  const d = view[dir];
  for (let i = 0; i < d.length; i++) {
    if ((view.rttOnly ? view.dl[i] + view.ul[i] : d[i]) > below) return false;
  }
  return true;
}

/** The longest delay of a FIFO at `kbit`, ms (0: no FIFO known). */
function fifoMs(fifo: FifoSize | undefined, kbit: number): number {
  if (fifo === undefined || !(kbit > 0)) return 0;
  return fifo.latencyS * 1000 + Math.max(fifo.bytes * 8 / kbit, (fifo.burstS ?? 0) * 1000);
}

/**
 * Takes `fraction` of our own busy FIFOs' delay (ms per direction) off each sample, in place:
 * from each direction's delta with one-way delays, from the RTT (split evenly) with RTT only.
 */
function ownFifoAllowance(
  view: SampleView,
  fifo: { dl: number; ul: number },
  fraction: number,
): void {
  if (fifo.dl === 0 && fifo.ul === 0) return;
  const dl = fifo.dl * fraction, ul = fifo.ul * fraction;
  for (let i = 0; i < view.dl.length; i++) {
    if (view.rttOnly) {
      view.dl[i] = view.ul[i] = Math.max(0, view.dl[i] + view.ul[i] - dl - ul) / 2;
    } else {
      view.dl[i] = Math.max(0, view.dl[i] - dl);
      view.ul[i] = Math.max(0, view.ul[i] - ul);
    }
  }
}

/** Below this load the download's bottleneck is before our shaper (its queue is the ISP's). */
const UPSTREAM_LOAD = 0.97;

/** Least-squares slope of (t s, d ms) in ms per s; 0 with fewer than 3 samples or a fall. */
function slope(samples: readonly { t: number; d: number }[]): number {
  const n = samples.length;
  if (n < 3) return 0;
  let st = 0, sd = 0;
  for (let i = 0; i < n; i++) {
    st += samples[i].t;
    sd += samples[i].d;
  }
  const mt = st / n, md = sd / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    num += (s.t - mt) * (s.d - md);
    den += (s.t - mt) * (s.t - mt);
  }
  return den > 0 ? Math.max(0, Math.min(4000, num / den)) : 0;
}
