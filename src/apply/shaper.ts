/**
 * The shaper contract and the `tc` based shapers: CAKE (root qdisc bandwidth), HTB (a class's
 * rate) and TBF (root qdisc rate with a burst sized for the rate).
 */
import { type CommandRunner, defaultCommandRunner } from "../util/command.ts";
import {
  ChangeNotTried,
  type Shaper,
  type ShaperKind,
  type ShaperPair,
  type ShaperQueue,
} from "../control/ports.ts";
import { htbQueue, tbfQueue } from "./shaper_queue.ts";
import { notTried, type QueryOptions, TcBatch, type TcBatchOptions } from "./tc_batch.ts";
import { hardClampRate } from "../control/rate_bounds.ts";
import { type Clock, isDue, systemClock } from "../util/clock.ts";
import { jsonList } from "../util/json_list.ts";
import { specOf } from "../config/settings_table.ts";

/** TBF: seconds of traffic at the rate the daemon's burst holds (default of `tbfBurstSeconds`). */
export const TBF_BURST_SECONDS = 0.005;
/** TBF: the daemon's smallest burst, bytes (about two full-size frames). */
export const TBF_MIN_BURST_BYTES = 3200;
/**
 * TBF: the most of a burst found on the qdisc (at start, or on a root replaced while running)
 * that is kept as the floor, bytes: 64 KiB, the largest packet the kernel hands a qdisc unless
 * an administrator raised the device's `gso_max_size` (BIG TCP). A larger burst found (one a
 * past run left at a high rate) would let that much through unshaped for the whole run
 * (docs/operation.md, "A TBF burst left by an earlier run").
 */
export const TBF_FOUND_BURST_CAP_BYTES = 65536;

/**
 * TBF: the burst in bytes for a rate, `seconds` of traffic at it and at least `minBytes` (the
 * daemon's defaults; the simulator's tbf shaper uses the same, src/sim/link.ts).
 */
export function tbfBurstBytes(
  kbit: number,
  o: { seconds: number; minBytes: number } = {
    seconds: TBF_BURST_SECONDS,
    minBytes: TBF_MIN_BURST_BYTES,
  },
): number {
  return Math.max(o.minBytes, Math.ceil(kbit * 125 * o.seconds));
}

/** `tc` failed to change a rate. */
export class ShaperError extends Error {
  /** `tc`'s standard error. */
  readonly stderr: string;
  /** `tc`'s exit code. */
  readonly code: number;

  /** Builds the message from the interface, the command and tc's output. */
  constructor(ifname: string, command: readonly string[], code: number, stderr: string) {
    super(`tc failed on ${ifname} (exit ${code}): ${command.join(" ")}: ${stderr.trim()}`);
    this.name = "ShaperError";
    this.stderr = stderr;
    this.code = code;
  }
}

/** Why a shaper check failed. */
export type ShaperCheckReason =
  | "missing-interface"
  | "unreachable"
  | "wrong-kind"
  | "missing-class"
  | "tc-failed";

/** The shaper a setting asks for is not there. */
export class ShaperCheckError extends Error {
  /**
   * Machine-readable reason (the daemon retries `missing-interface` and `unreachable`, a remote
   * router that does not answer yet).
   */
  readonly reason: ShaperCheckReason;
  /**
   * `tc`'s standard error when tc itself failed (`tc-failed`): the cause, in the words a failed
   * change gives it, so that the loop's log-once sees one cause reached by two paths as one.
   */
  readonly stderr?: string;

  /** Builds the error. */
  constructor(reason: ShaperCheckReason, message: string, options: { stderr?: string } = {}) {
    super(message);
    this.name = "ShaperCheckError";
    this.reason = reason;
    if (options.stderr !== undefined) this.stderr = options.stderr;
  }
}

/** Options shared by the `tc` shapers. */
export interface TcShaperOptions {
  /** `tc` binary (default `tc` from PATH). */
  tcPath?: string;
  /** Run inside this network namespace (`tc -n NS`); tests and benchmarks. */
  netns?: string;
  /** Command runner (default: Deno.Command with a 5 s timeout). */
  runner?: CommandRunner;
  /**
   * Rate changes go through this `tc -batch` coprocess (its command must carry the same tc
   * binary and netns); queries at start still run `tc` once each. Default: none.
   */
  batch?: TcBatch;
  /**
   * Why a change fails (the `tc -j qdisc show` after it) is asked again only this often while it
   * fails with the same answer: at once, then after `firstS`, doubling up to `maxS`; a change
   * that works or another answer starts over. Remote mode, where each question is a round trip
   * to the router (one ssh connection when the `tc -batch` session cannot carry it; docs/remote.md,
   * "A root qdisc replaced on the router"). Default: every failure.
   */
  explainBackoff?: { readonly firstS: number; readonly maxS: number };
  /** Clock of `explainBackoff` (default: the system clock). */
  clock?: Clock;
}

/** Options of `createShaper`. */
export interface CreateShaperOptions extends TcShaperOptions {
  /** HTB class id (setting `htb_classid`), default `1:1`. */
  htbClassid?: string;
  /** HTB: keep a configured ceil above the rate instead of setting ceil = rate. */
  htbKeepCeil?: boolean;
  /** TBF: seconds of traffic at the rate the burst holds (default 0.005). */
  tbfBurstSeconds?: number;
  /** TBF: smallest burst in bytes (default 3200, about two full-size frames). */
  tbfMinBurstBytes?: number;
  /** TBF: latency to use when the existing qdisc's cannot be read (µs, default 50000). */
  tbfDefaultLatencyUs?: number;
}

/** Formats a rate for tc: `<kbit>Kbit` (decimals allowed; tc's Kbit is 1000 bit/s). */
export function formatKbit(kbit: number): string {
  if (!Number.isFinite(kbit) || kbit < 0) throw new RangeError(`invalid rate ${kbit} kbit/s`);
  return `${kbit}Kbit`;
}

const RATE_UNITS: Record<string, number> = { "": 1e-3, k: 1, m: 1e3, g: 1e6, t: 1e9 };

/** Parses tc's rate text (`20Mbit`, `1600Kbit`, `800bit`, `5Kibit`) into kbit/s. */
export function parseTcRate(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kmgt]?)(i?)bit$/i.exec(text.trim());
  if (m === null) return undefined;
  const value = Number(m[1]);
  const prefix = m[2].toLowerCase();
  if (m[3] !== "") {
    const exp = ["", "k", "m", "g", "t"].indexOf(prefix);
    return value * 1024 ** exp / 1000;
  }
  return value * RATE_UNITS[prefix];
}

/** True when tc's stderr says the interface does not exist. */
function isMissingDevice(stderr: string): boolean {
  return /cannot find device/i.test(stderr);
}

/** The root qdisc of a device and the list it came in (`tc -j qdisc show`). */
interface RootAndQdiscs {
  root: Record<string, unknown>;
  qdiscs: readonly unknown[];
}

/** Common plumbing of the tc shapers. */
abstract class TcShaper implements Shaper {
  abstract readonly kind: ShaperKind;
  readonly ifname: string;
  protected readonly tcPath: string;
  protected readonly netnsArgs: string[];
  protected readonly runner: CommandRunner;
  readonly #batch?: TcBatch;
  /** Handle of the root qdisc found by `check()` (e.g. `8001:`). */
  #rootHandle: string | undefined;
  /** How it queues, as the last `check()` found it. */
  queue: ShaperQueue | undefined;
  readonly #explainBackoff: TcShaperOptions["explainBackoff"];
  readonly #clock: Clock;
  /** What the last question after a failed change said, and when to ask again. */
  #explained: { stderr: string; error: unknown; delayS: number; nextS: number } | undefined;

  constructor(ifname: string, options: TcShaperOptions) {
    this.ifname = ifname;
    this.tcPath = options.tcPath ?? "tc";
    this.netnsArgs = options.netns ? ["-n", options.netns] : [];
    this.runner = options.runner ?? defaultCommandRunner;
    this.#batch = options.batch;
    this.#explainBackoff = options.explainBackoff;
    this.#clock = options.clock ?? systemClock;
  }

  abstract setRate(kbit: number): Promise<void>;
  abstract check(): Promise<void>;

  /** Runs tc; rejects with `ShaperError` on a non-zero exit. */
  protected async tc(args: string[]): Promise<string> {
    const full = [...this.netnsArgs, ...args];
    const r = await this.runner(this.tcPath, full);
    if (r.code !== 0) throw new ShaperError(this.ifname, [this.tcPath, ...full], r.code, r.stderr);
    return r.stdout;
  }

  /**
   * `tc -j ARGS…`, a query: through the batch coprocess when it can answer it (no process, no ssh
   * connection of its own: docs/remote.md, "A root qdisc replaced on the router"), else one tc.
   */
  protected async query(args: string[]): Promise<string> {
    const r = await this.#batch?.query(args);
    return r !== undefined ? r.stdout : await this.tc(["-j", ...args]);
  }

  /**
   * The root qdisc as the batch coprocess reports it, if it is still `kind` under the handle the
   * last change used; undefined when the coprocess cannot answer (no process of its own is
   * started: docs/operation.md, "Another program changes the rate") or the root was replaced
   * (the next change adopts it or says why it fails, so this says nothing of it).
   */
  protected async rootInForce(kind: string): Promise<Record<string, unknown> | undefined> {
    return (await this.underRootInForce(kind)).root;
  }

  /**
   * {@linkcode rootInForce}, with the query `first` asked just before it in the same write
   * (`out`: its stdout as {@linkcode askInForce} gives it, when the root is `kind`): the root's
   * answer, which always comes, tells at once that `first` printed nothing (`isAnswer`).
   */
  protected async underRootInForce(
    kind: string,
    first?: { args: string[]; isAnswer: (line: string) => boolean },
  ): Promise<{ root?: Record<string, unknown>; out?: string }> {
    if (this.#rootHandle === undefined) return {};
    // Both asked before either is awaited: adjacent in the queue, so in one write, in this order.
    const asked = first === undefined
      ? undefined
      : this.askInForce(first.args, { isAnswer: first.isAnswer });
    const root = await this.#root(kind);
    const out = await asked;
    return root === undefined ? {} : { root, out };
  }

  /** The root qdisc in force if it is still `kind` under the handle the last change used. */
  async #root(kind: string): Promise<Record<string, unknown> | undefined> {
    if (this.#rootHandle === undefined) return undefined;
    const out = await this.askInForce(["qdisc", "show", "dev", this.ifname]);
    if (out === undefined) return undefined;
    const root = rootOf(jsonList(out) ?? []);
    if (root?.kind !== kind || String(root.handle) !== this.#rootHandle) return undefined;
    return root;
  }

  /**
   * The stdout of `tc -j ARGS…` asked through the batch coprocess only; undefined when it cannot
   * answer or the query failed (no process of its own is started: docs/operation.md, "Another
   * program changes the rate").
   */
  protected async askInForce(
    args: string[],
    options: QueryOptions = {},
  ): Promise<string | undefined> {
    const r = await this.#batch?.query(args, options);
    return r === undefined || r.code !== 0 ? undefined : r.stdout;
  }

  /** A rate change: one line to the batch coprocess if there is one, else one tc process. */
  protected async change(args: string[]): Promise<void> {
    if (this.#batch === undefined) {
      await this.tc(args);
    } else {
      const r = await this.#batch.run(args);
      // Given up on shutdown or not tried while the router does not answer: no query of the root
      // qdisc after it (an ssh to a router that stopped answering would outlive the daemon).
      const skipped = notTried(r);
      if (skipped !== undefined) throw new ChangeNotTried(skipped, `${this.ifname}: ${r.stderr}`);
      if (r.code !== 0) throw new ShaperError(this.ifname, ["tc", ...args], r.code, r.stderr);
    }
    this.#explained = undefined;
  }

  /**
   * Explains the failed change `e` by `ask` (a look at the root qdisc): its outcome, or, with
   * `explainBackoff`, what the last look said about the same failure until the next look is due.
   */
  async #explain<T>(e: ShaperError, ask: () => Promise<T>): Promise<T> {
    const last = this.#explained;
    const backoff = this.#explainBackoff;
    const same = last !== undefined && last.stderr === e.stderr;
    if (backoff !== undefined && same && !isDue(this.#clock.monotonicS(), last.nextS)) {
      throw last.error;
    }
    try {
      return await ask();
    } catch (error) {
      if (backoff !== undefined) {
        const delayS = same ? Math.min(backoff.maxS, last.delayS * 2) : backoff.firstS;
        this.#explained = {
          stderr: e.stderr,
          error,
          delayS,
          nextS: this.#clock.monotonicS() + delayS,
        };
      }
      throw error;
    }
  }

  /**
   * `tc qdisc change root handle H: dev IF KIND PARAMS…`: changes only the given parameters of
   * the root qdisc found by `check()`. The handle matters: without it the kernel replaces a root
   * qdisc of another kind that an administrator put in place by a new one of ours. With it the
   * change fails, and we say why (docs/operation.md): a root of another kind holds the rate until
   * ours is back; a new root of our kind (new handle) is adopted. `params` is called again after
   * adopting one, so it can use what `onNewRoot` learnt.
   */
  protected async changeRootQdisc(kind: string, params: () => string[]): Promise<void> {
    const args = () => [
      ...["qdisc", "change", "root"],
      ...(this.#rootHandle !== undefined ? ["handle", this.#rootHandle] : []),
      ...["dev", this.ifname, kind],
      ...params(),
    ];
    try {
      await this.change(args());
      return;
    } catch (e) {
      if (!(e instanceof ShaperError) || this.#rootHandle === undefined) throw e;
      const root = await this.#explain(e, async () => {
        const root = await this.#rootOrThrow(kind);
        if (String(root.handle) === this.#rootHandle) throw e; // a genuine failure
        return root;
      });
      this.#rootHandle = String(root.handle);
      this.onNewRoot(root);
    }
    await this.change(args());
  }

  /** The root qdisc, or a "wrong-kind" error saying it was replaced by another kind. */
  async #rootOrThrow(kind: string): Promise<Record<string, unknown>> {
    const { root } = await this.qdiscs();
    if (root.kind !== kind) {
      throw new ShaperCheckError(
        "wrong-kind",
        `the root qdisc of ${this.ifname} was replaced by ${String(root.kind)}: holding the ` +
          `rate until a ${kind} root qdisc is back (it is not re-created)`,
      );
    }
    return root;
  }

  /** Tells why a change failed when the root qdisc is no longer `kind`; else rethrows `e`. */
  protected async explainFailure(kind: string, e: unknown): Promise<never> {
    if (!(e instanceof ShaperError)) throw e;
    return await this.#explain(e, async () => {
      await this.#rootOrThrow(kind);
      throw e;
    });
  }

  /** A root qdisc of our kind with a new handle was adopted (TBF re-reads its options). */
  protected onNewRoot(_root: Record<string, unknown>): void {}

  /** The device's qdiscs as `tc -j qdisc show dev IF` reports them, and the root among them. */
  protected async qdiscs(): Promise<RootAndQdiscs> {
    let out: string;
    try {
      out = await this.query(["qdisc", "show", "dev", this.ifname]);
    } catch (e) {
      if (e instanceof ShaperError && isMissingDevice(e.stderr)) {
        throw new ShaperCheckError("missing-interface", `interface ${this.ifname} does not exist`);
      }
      const stderr = e instanceof ShaperError ? e.stderr : undefined;
      throw new ShaperCheckError("tc-failed", (e as Error).message, { stderr });
    }
    const qdiscs = jsonList(out);
    if (qdiscs === undefined) {
      throw new ShaperCheckError(
        "tc-failed",
        `tc -j qdisc show dev ${this.ifname}: not a JSON list`,
      );
    }
    const root = rootOf(qdiscs);
    if (root === undefined) {
      throw new ShaperCheckError("wrong-kind", `${this.ifname} has no root qdisc`);
    }
    return { root, qdiscs };
  }

  /** Checks the root qdisc kind and remembers its handle. */
  protected async expectRootKind(kind: string): Promise<RootAndQdiscs> {
    const found = await this.qdiscs();
    const root = found.root;
    if (root.kind !== kind) {
      // A root another shaper setting retunes (README's daemon line on a router with tbf): name
      // that setting.
      const rootKind = String(root.kind);
      const other = specOf("shaper").choices?.includes(rootKind)
        ? `; shaper=${rootKind} retunes it`
        : "";
      throw new ShaperCheckError(
        "wrong-kind",
        `the root qdisc of ${this.ifname} is ${rootKind}, not ${kind} ` +
          `(setting shaper=${this.kind}${other})`,
      );
    }
    if (typeof root.handle === "string" && root.handle !== "") this.#rootHandle = root.handle;
    return found;
  }
}

/** CAKE: `tc qdisc change root dev IF cake bandwidth NKbit` (upstream's command). */
export class CakeShaper extends TcShaper {
  /** Shaper kind. */
  readonly kind = "cake";

  /** Creates the shaper for `ifname`. */
  constructor(ifname: string, options: TcShaperOptions = {}) {
    super(ifname, options);
  }

  /** Changes the CAKE bandwidth (hard-clamped: never 0, which CAKE reads as unlimited). */
  async setRate(kbit: number): Promise<void> {
    const rate = formatKbit(hardClampRate(kbit));
    await this.changeRootQdisc("cake", () => ["bandwidth", rate]);
  }

  /** The root qdisc must be CAKE (which isolates flows). */
  async check(): Promise<void> {
    await this.expectRootKind("cake");
    this.queue = { isolating: true, leaves: [] };
  }

  /** CAKE's bandwidth in force (kbit/s), asked through the batch coprocess only. */
  async rateInForce(): Promise<number | undefined> {
    return rootRateKbit(await this.rootInForce("cake"), "bandwidth");
  }

  /** CAKE's bandwidth (bytes/s in tc's JSON) in kbit/s. */
  async readRate(): Promise<number> {
    const { root } = await this.expectRootKind("cake");
    return rootRateKbit(root, "bandwidth") ?? 0;
  }
}

/** A `tc -j qdisc show` answer (a class's is text, or a list of `"class"` objects). */
/** The root qdisc among those `tc -j qdisc show` listed, if one is. */
function rootOf(qdiscs: readonly unknown[]): Record<string, unknown> | undefined {
  return qdiscs.find((q) =>
    typeof q === "object" && q !== null && (q as { root?: unknown }).root === true
  ) as Record<string, unknown> | undefined;
}

const QDISC_LIST = /^\[\{"kind":/;

/** HTB: `tc class change dev IF classid X htb rate NKbit ceil MKbit`. */
export class HtbShaper extends TcShaper {
  /** Shaper kind. */
  readonly kind = "htb";
  readonly #classid: string;
  readonly #keepCeil: boolean;
  #configuredCeil: number | undefined;

  /** Creates the shaper for class `classid` of `ifname`. */
  constructor(
    ifname: string,
    options: TcShaperOptions & { classid?: string; keepCeil?: boolean } = {},
  ) {
    super(ifname, options);
    this.#classid = options.classid ?? "1:1";
    this.#keepCeil = options.keepCeil ?? false;
  }

  /**
   * Sets the class rate. Ceil must never be below the rate (tc refuses it); by default it
   * follows the rate so the class cannot borrow past what the controller chose; with
   * `keepCeil` a higher ceil configured at start is kept.
   */
  async setRate(requested: number): Promise<void> {
    const kbit = hardClampRate(requested);
    const ceil = this.#keepCeil && this.#configuredCeil !== undefined
      ? Math.max(kbit, this.#configuredCeil)
      : kbit;
    await this.change([
      "class",
      "change",
      "dev",
      this.ifname,
      "classid",
      this.#classid,
      "htb",
      "rate",
      formatKbit(kbit),
      "ceil",
      formatKbit(ceil),
    ]).catch((e) => this.explainFailure("htb", e));
  }

  /** The root qdisc must be HTB and the class must exist; learns its leaves' queue. */
  async check(): Promise<void> {
    const { qdiscs } = await this.expectRootKind("htb");
    const cls = await this.#readClass();
    this.#configuredCeil = cls.ceil;
    this.queue = htbQueue(qdiscs, { classText: cls.text, classid: this.#classid });
  }

  /** The class's current rate (kbit/s). */
  async readRate(): Promise<number> {
    return (await this.#readClass()).rate;
  }

  /**
   * The class's rate in force (kbit/s), asked through the batch coprocess only and only while
   * the root is the HTB found (a replaced root is the change's business): `class show dev IF
   * classid C`, one line per class, text as tc 6.1 prints HTB classes even with -j.
   */
  async rateInForce(): Promise<number | undefined> {
    // The class first, the root after it in one write: a class deleted under the root prints
    // nothing, and the root's answer coming first says so at once, where a wait for the class's
    // line cost the tick 2 s (docs/operation.md, "Another program changes the rate").
    const { out } = await this.underRootInForce("htb", {
      args: ["class", "show", "dev", this.ifname, "classid", this.#classid],
      isAnswer: (line) => !QDISC_LIST.test(line),
    });
    return out === undefined ? undefined : htbClassRates(out, this.#classid)?.rate;
  }

  /**
   * Reads the device's classes, one process (tc 6.1 prints HTB classes as text even with -j, so
   * we parse text): the class's rate and ceil, and the whole text for its subtree.
   */
  async #readClass(): Promise<{ rate: number; ceil: number; text: string }> {
    let out: string;
    try {
      out = await this.tc(["class", "show", "dev", this.ifname]);
    } catch (e) {
      if (e instanceof ShaperError && isMissingDevice(e.stderr)) {
        throw new ShaperCheckError("missing-interface", `interface ${this.ifname} does not exist`);
      }
      throw new ShaperCheckError("tc-failed", (e as Error).message);
    }
    const rates = htbClassRates(out, this.#classid);
    if (rates === undefined) {
      throw new ShaperCheckError(
        "missing-class",
        `${this.ifname} has no HTB class ${this.#classid} (setting htb_classid)`,
      );
    }
    if (rates.rate === undefined) {
      throw new ShaperCheckError("tc-failed", `cannot parse the HTB class line: ${rates.line}`);
    }
    return { rate: rates.rate, ceil: rates.ceil ?? rates.rate, text: out };
  }
}

/**
 * The rate and ceil (kbit/s) of HTB class `classid` in `tc class show` text (its line, as tc
 * prints it); undefined when no line is that class's.
 */
function htbClassRates(
  out: string,
  classid: string,
): { line: string; rate?: number; ceil?: number } | undefined {
  const line = out.split("\n").find((l) => l.startsWith(`class htb ${classid} `));
  if (line === undefined) return undefined;
  return {
    line,
    rate: parseTcRate(/ rate (\S+)/.exec(line)?.[1] ?? ""),
    ceil: parseTcRate(/ ceil (\S+)/.exec(line)?.[1] ?? ""),
  };
}

/**
 * TBF: `tc qdisc change root dev IF tbf rate NKbit burst B latency L`. tc requires burst and
 * latency (or limit) on every change; the latency configured at start is kept so the queue
 * stays bounded in time, and the burst grows with the rate but never shrinks: TBF admits a
 * (GSO) packet up to the burst in force when it is queued, and a packet larger than a later,
 * smaller burst can never be sent — the queue wedges for good (seen in the e2e testbed). The
 * burst found on the qdisc counts only up to {@linkcode TBF_FOUND_BURST_CAP_BYTES} (or this
 * rate's own burst, when larger): no packet queued before the daemon's first change is larger,
 * and a past run's 6 MB burst (10 Gbit/s) must not stay for good (docs/operation.md, "A TBF
 * burst left by an earlier run").
 */
export class TbfShaper extends TcShaper {
  /** Shaper kind. */
  readonly kind = "tbf";
  readonly #burstSeconds: number;
  readonly #minBurst: number;
  readonly #defaultLatencyUs: number;
  #latencyUs: number | undefined;
  /** The largest burst configured so far (bytes), and the qdisc's own at start up to the cap. */
  #burstFloor = 0;
  /** The qdisc's own burst found (bytes), not yet capped by the first change's rate. */
  #foundBurst = 0;

  /** Creates the shaper for the root TBF of `ifname`. */
  constructor(
    ifname: string,
    options: TcShaperOptions & {
      burstSeconds?: number;
      minBurstBytes?: number;
      defaultLatencyUs?: number;
    } = {},
  ) {
    super(ifname, options);
    this.#burstSeconds = options.burstSeconds ?? TBF_BURST_SECONDS;
    this.#minBurst = options.minBurstBytes ?? TBF_MIN_BURST_BYTES;
    this.#defaultLatencyUs = options.defaultLatencyUs ?? 50_000;
  }

  /** Burst in bytes for a rate: `burstSeconds` of traffic, at least the minimum. */
  burstBytes(kbit: number): number {
    return tbfBurstBytes(kbit, { seconds: this.#burstSeconds, minBytes: this.#minBurst });
  }

  /** Changes the TBF rate, burst and (kept) latency. */
  async setRate(requested: number): Promise<void> {
    const kbit = hardClampRate(requested);
    if (this.#latencyUs === undefined) {
      try {
        await this.check();
      } catch {
        this.#latencyUs = this.#defaultLatencyUs;
      }
    }
    await this.changeRootQdisc("tbf", () => [
      "rate",
      formatKbit(kbit),
      "burst",
      String(this.#nextBurst(kbit)),
      "latency",
      `${this.#latencyUs ?? this.#defaultLatencyUs}us`,
    ]);
  }

  /** A new TBF root: keep its latency, and never a burst below its own (up to the cap). */
  protected override onNewRoot(root: Record<string, unknown>): void {
    this.#learn(root);
  }

  /** The burst for `kbit`, never below one configured before (see the class comment). */
  #nextBurst(kbit: number): number {
    const own = this.burstBytes(kbit);
    const found = Math.min(this.#foundBurst, Math.max(own, TBF_FOUND_BURST_CAP_BYTES));
    this.#foundBurst = 0;
    this.#burstFloor = Math.max(this.#burstFloor, found, own);
    return this.#burstFloor;
  }

  /** The root qdisc must be TBF; remembers its handle, latency and burst, and its leaf's queue. */
  async check(): Promise<void> {
    const { root, qdiscs } = await this.expectRootKind("tbf");
    this.#learn(root);
    this.queue = tbfQueue(qdiscs, { burstS: this.#burstSeconds });
  }

  #learn(root: Record<string, unknown>): void {
    const options = (root.options ?? {}) as Record<string, unknown>;
    const lat = Number(options.lat);
    this.#latencyUs = Number.isFinite(lat) && lat > 0 ? lat : this.#defaultLatencyUs;
    const burst = Number(options.burst);
    if (Number.isFinite(burst) && burst > 0) this.#foundBurst = burst;
  }

  /** TBF's rate in force (kbit/s), asked through the batch coprocess only. */
  async rateInForce(): Promise<number | undefined> {
    return rootRateKbit(await this.rootInForce("tbf"), "rate");
  }

  /** TBF's rate (bytes/s in tc's JSON) in kbit/s. */
  async readRate(): Promise<number> {
    const { root } = await this.expectRootKind("tbf");
    return rootRateKbit(root, "rate") ?? 0;
  }
}

/**
 * A root qdisc's rate option (CAKE's `bandwidth`, TBF's `rate`: bytes/s in tc's JSON) in kbit/s;
 * undefined without the qdisc or a numeric option.
 */
function rootRateKbit(
  root: { options?: unknown } | undefined,
  option: "bandwidth" | "rate",
): number | undefined {
  const v = Number(((root?.options ?? {}) as Record<string, unknown>)[option]);
  return root !== undefined && Number.isFinite(v) ? v * 8 / 1000 : undefined;
}

/** Creates the shaper of `kind` for `ifname`. */
export function createShaper(
  kind: ShaperKind,
  ifname: string,
  options: CreateShaperOptions = {},
): Shaper {
  switch (kind) {
    case "cake":
      return new CakeShaper(ifname, options);
    case "htb":
      return new HtbShaper(ifname, {
        ...options,
        classid: options.htbClassid,
        keepCeil: options.htbKeepCeil,
      });
    case "tbf":
      return new TbfShaper(ifname, {
        ...options,
        burstSeconds: options.tbfBurstSeconds,
        minBurstBytes: options.tbfMinBurstBytes,
        defaultLatencyUs: options.tbfDefaultLatencyUs,
      });
    default:
      throw new RangeError(`unknown shaper kind "${kind as string}" (setting shaper)`);
  }
}

/**
 * The download/upload pair for the settings `shaper`, `dl_if`, `ul_if`, `htb_classid`. Both
 * change their rates through one shared `tc -batch` coprocess, unless `batch: false`, another
 * `batch` or a custom `runner` is given; `close()` stops it.
 */
export function createShaperPair(
  settings: { shaper: ShaperKind; dl_if: string; ul_if: string; htb_classid: string },
  options: Omit<CreateShaperOptions, "batch"> & {
    batch?: TcBatch | false;
    logger?: TcBatchOptions["logger"];
  } = {},
): ShaperPair {
  // A custom runner (a fake, a remote tc) gets no default local coprocess behind its back.
  const batch = options.batch === false || (options.batch === undefined && options.runner)
    ? undefined
    : options.batch ?? new TcBatch({
      command: [options.tcPath ?? "tc", ...(options.netns ? ["-n", options.netns] : [])],
      logger: options.logger,
    });
  const o = { htbClassid: settings.htb_classid, ...options, batch };
  return {
    dl: createShaper(settings.shaper, settings.dl_if, o),
    ul: createShaper(settings.shaper, settings.ul_if, o),
    close: async () => await batch?.close(),
    stopping: () => batch?.stopping(),
  };
}

/** The pair's two shapers, each with the setting that names its interface (for problems). */
export function shapersBySetting(
  pair: ShaperPair,
): readonly (readonly ["download_interface" | "upload_interface", Shaper])[] {
  return [["download_interface", pair.dl], ["upload_interface", pair.ul]];
}
