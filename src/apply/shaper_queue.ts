/**
 * Whether a tbf or htb shaper isolates flows: read from `tc -j qdisc show` (and, for HTB,
 * `tc class show`). sqm-scripts' usual setups put an fq_codel leaf under the shaper (simplest.qos,
 * simple.qos: HTB; simplest_tbf.qos: TBF), which serves sparse flows such as the daemon's probes
 * ahead of the bulk queue, as CAKE does; a plain tbf or an HTB leaf without a qdisc of its own
 * queues everything in one FIFO (docs/controllers.md, "Shapers without flow isolation").
 */
import type { FifoSize, ShaperQueue } from "../control/ports.ts";
import type { ShaperQueues } from "../control/ratecontroller_port.ts";

/** Leaf qdiscs that give sparse flows their own queue. */
export const FLOW_ISOLATING_QDISCS: readonly string[] = ["fq_codel", "fq", "fq_pie", "sfq", "cake"];

/** One qdisc as `tc -j qdisc show` reports it (the fields read here). */
interface QdiscEntry {
  kind: string;
  handle?: string;
  parent?: string;
  options?: Record<string, unknown>;
}

function entries(list: readonly unknown[]): QdiscEntry[] {
  return list.filter((q): q is QdiscEntry =>
    typeof q === "object" && q !== null && typeof (q as QdiscEntry).kind === "string"
  );
}

/**
 * The queue the leaves' qdiscs make: isolating only when every leaf is of an isolating kind; a
 * FIFO's size when there is one leaf and its limit is known.
 */
function queueOf(kinds: string[], fifo: FifoSize | undefined): ShaperQueue {
  const leaves = [...kinds].sort();
  const isolating = leaves.length > 0 && leaves.every((k) => FLOW_ISOLATING_QDISCS.includes(k));
  return isolating || fifo === undefined ? { isolating, leaves } : { isolating, leaves, fifo };
}

/** A bfifo leaf's size (its limit in bytes); undefined for any other kind. */
function bfifoSize(q: QdiscEntry | undefined): FifoSize | undefined {
  const limit = Number(q?.options?.limit);
  return q?.kind === "bfifo" && limit > 0 ? { latencyS: 0, bytes: limit } : undefined;
}

/**
 * A root TBF's queue from the device's `tc -j qdisc show` list: the qdisc attached under the
 * root (parent `H:`); none is TBF's built-in bfifo, of rate × latency + burst bytes, whose burst
 * the daemon raises to `burstS` seconds at the rate it sets (TbfShaper).
 */
export function tbfQueue(qdiscs: readonly unknown[], o: { burstS?: number } = {}): ShaperQueue {
  const list = entries(qdiscs);
  const root = list.find((q) => (q as { root?: boolean }).root === true);
  const major = root?.handle?.split(":")[0];
  const child = list.find((q) =>
    q !== root && major !== undefined && q.parent !== undefined &&
    q.parent.split(":")[0] === major
  );
  if (child !== undefined) return queueOf([child.kind], bfifoSize(child));
  // TBF's own queue: its limit is rate × latency + burst.
  const lat = Number(root?.options?.lat), burst = Number(root?.options?.burst);
  const own = lat > 0 && burst > 0
    ? { latencyS: lat / 1e6, bytes: burst, ...(o.burstS !== undefined ? { burstS: o.burstS } : {}) }
    : undefined;
  return queueOf(["bfifo"], own);
}

/**
 * An HTB class's queue: the leaf classes under `classid` (the class itself when it has no
 * children) from `tc class show dev IF` (text), each with the qdisc attached to it in the
 * `tc -j qdisc show` list. A leaf without one has HTB's built-in pfifo; it counts only when it
 * is the root's `default` class (unclassified traffic goes there): sqm-scripts' simple.qos keeps
 * a class 1:10 without a qdisc that no filter feeds, beside its three fq_codel leaves.
 */
export function htbQueue(
  qdiscs: readonly unknown[],
  o: { classText: string; classid: string },
): ShaperQueue {
  const children = new Map<string, string[]>();
  for (const line of o.classText.split("\n")) {
    const m = /^class htb (\S+) parent (\S+)/.exec(line.trim());
    if (m === null) continue;
    children.set(m[2], [...children.get(m[2]) ?? [], m[1]]);
  }
  const leaves: string[] = [];
  const seen = new Set<string>();
  const walk = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    const kids = children.get(id) ?? [];
    if (kids.length === 0) leaves.push(id);
    for (const k of kids) walk(k);
  };
  walk(o.classid);
  const list = entries(qdiscs);
  const root = list.find((q) => (q as { root?: boolean }).root === true);
  const fallback = defaultClass(root);
  const counted: { kind: string; q?: QdiscEntry }[] = [];
  for (const id of leaves) {
    const q = list.find((e) => e.parent === id);
    if (q !== undefined) counted.push({ kind: q.kind, q });
    else if (id === fallback) counted.push({ kind: "pfifo" });
  }
  return queueOf(
    counted.length > 0 ? counted.map((c) => c.kind) : ["pfifo"],
    counted.length === 1 ? bfifoSize(counted[0].q) : undefined,
  );
}

/** The classid of an HTB root's `default` option (`"0x10"` on root `1:` → `1:10`). */
function defaultClass(root: QdiscEntry | undefined): string | undefined {
  const major = root?.handle?.split(":")[0];
  const hex = String(root?.options?.default ?? "").replace(/^0x0*/i, "");
  return major === undefined || hex === "" ? undefined : `${major}:${hex.toLowerCase()}`;
}

/**
 * Whether the download shaper carries the daemon's own probe replies: it does when it shapes an
 * IFB (ingress shaping), not when it shapes the LAN egress. Told by the link kind `ip` reports
 * (src/apply/link_kind.ts); when that could not be read (`kind` undefined: BusyBox `ip`, remote
 * mode), by the name sqm-scripts gives its IFB, `ifb4IF`.
 */
export function dlCarriesProbes(
  dl: { ifname: string; kind?: string },
): { carries: boolean; by: "link kind" | "name" } {
  return dl.kind === undefined
    ? { carries: /^ifb/.test(dl.ifname), by: "name" }
    : { carries: dl.kind === "ifb", by: "link kind" };
}

/**
 * What the start-up check learnt of both shapers, for the controller, with whether the download
 * shaper carries the probes (`dlCarriesProbes`).
 */
export function shaperQueues(
  pair: { dl: { queue?: ShaperQueue }; ul: { queue?: ShaperQueue } },
  probes: { carries: boolean },
): ShaperQueues {
  return { dl: pair.dl.queue, ul: pair.ul.queue, dlCarriesProbes: probes.carries };
}

/**
 * The start-up log line on how the probes queue (with `probesBy`: how the IFB was told, see
 * `dlCarriesProbes`), and whether it needs a warning: the capacity controller with a download
 * FIFO that carries the probes and whose size is unknown keeps cutting on its own queue's delay
 * (docs/controllers.md, "Shapers without flow isolation").
 */
export function describeShaperQueues(
  q: ShaperQueues,
  controller: string,
  o: { probesBy?: string } = {},
): { message: string; warn: boolean } {
  const one = (s: ShaperQueue | undefined) =>
    s === undefined ? "unknown" : `${s.isolating ? "flow-isolating" : "one FIFO"}` +
      (s.leaves.length > 0 ? ` (${s.leaves.join(", ")})` : "");
  const by = o.probesBy === undefined
    ? ""
    : ` (${q.dlCarriesProbes ? "an" : "not an"} IFB by its ${o.probesBy})`;
  const probes = q.dlCarriesProbes
    ? `, carrying the daemon's probes${by}`
    : by === ""
    ? ""
    : `, not carrying the daemon's probes${by}`;
  const message = `shaper queues: download ${one(q.dl)}${probes}; upload ${one(q.ul)}`;
  const warn = controller === "capacity" && q.dl?.isolating === false && q.dlCarriesProbes &&
    q.dl.fifo === undefined;
  return { message, warn };
}
