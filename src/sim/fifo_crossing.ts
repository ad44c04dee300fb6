/**
 * Sparse packets (the daemon's probes) crossing one FIFO queue of the fluid link in order. A
 * packet that enters with B bytes queued ahead of it leaves when the queue has served B more
 * bytes, at whatever rate it serves them from then on: when the capacity rises, the packets
 * already queued leave early, and none leaves before one that entered earlier
 * (docs/simulator.md, "Probes through the link").
 */

/**
 * One queue of the fluid link as the link keeps it: its state at the end of the last step and at
 * the end of the step before, so that a crossing can place a packet within the step without
 * reading the queue every step.
 */
export interface FluidQueue {
  /** Bytes the queue has served since the start. */
  served: number;
  /** Bytes waiting in it now. */
  backlog: number;
  /** `served` at the end of the step before. */
  servedBefore: number;
  /** `served + backlog` (the queue's tail) at the end of the step before. */
  tailBefore: number;
}

/** An empty queue. */
export function emptyQueue(): FluidQueue {
  return { served: 0, backlog: 0, servedBefore: 0, tailBefore: 0 };
}

/** Keeps the queue's state of the step that ends, before the link changes it in the next one. */
export function beginStep(queue: FluidQueue): void {
  queue.servedBefore = queue.served;
  queue.tailBefore = queue.served + queue.backlog;
}

interface Entry<T> {
  item: T;
  /** Entry time, s. */
  at: number;
  /** The queue's served count at which the packet leaves: served + backlog when it entered. */
  mark: number;
}

/**
 * One FIFO queue as packets cross it. After each step of the link (ending at `now`): `enter` the
 * packets that reached the queue within that step, then `leave` (every step while `size` > 0).
 */
export class FifoCrossing<T> {
  #queue: FluidQueue;
  #stepS: number;
  #entries: Entry<T>[] = [];
  #head = 0;
  #lastLeave = -Infinity;

  /** A crossing of `queue`, which the link advances in steps of `stepS` seconds. */
  constructor(queue: FluidQueue, stepS: number) {
    this.#queue = queue;
    this.#stepS = stepS;
  }

  /** Packets inside the queue now. */
  get size(): number {
    return this.#entries.length - this.#head;
  }

  /**
   * A packet reaches the queue at `at`, within the step that ended at `now`; it has the backlog of
   * that moment ahead of it (the queue's tail, interpolated across the step).
   */
  enter(now: number, at: number, item: T): void {
    const q = this.#queue;
    const f = Math.min(1, Math.max(0, 1 - (now - at) / this.#stepS));
    let mark = q.tailBefore + (q.served + q.backlog - q.tailBefore) * f;
    const entries = this.#entries;
    if (entries.length > this.#head && mark < entries[entries.length - 1].mark) {
      mark = entries[entries.length - 1].mark;
    }
    entries.push({ item, at, mark });
  }

  /**
   * Hands `out` every packet that has left by `now` (the end of the link's last step), in entry
   * order, with its departure time: when the served count passed its mark (interpolated across the
   * step), never before it entered nor before the packet ahead of it left.
   */
  leave(now: number, out: (item: T, atS: number) => void): void {
    const entries = this.#entries;
    if (this.#head === entries.length) return;
    const q = this.#queue;
    // A shrinking queue limit (a scaled ISP buffer at a drop, a FIFO shaper's rate cut) drops
    // stored bytes: no packet has more ahead of it than the whole queue.
    const tail = q.served + q.backlog;
    for (let i = entries.length - 1; i >= this.#head && entries[i].mark > tail; i--) {
      entries[i].mark = tail;
    }
    const gained = q.served - q.servedBefore;
    const start = now - this.#stepS;
    while (this.#head < entries.length && entries[this.#head].mark <= q.served) {
      const e = entries[this.#head++];
      const f = gained > 0 ? Math.max(0, (e.mark - q.servedBefore) / gained) : 0;
      let t = start + f * this.#stepS;
      if (t < e.at) t = e.at;
      if (t < this.#lastLeave) t = this.#lastLeave;
      this.#lastLeave = t;
      out(e.item, t);
    }
    if (this.#head === entries.length) {
      entries.length = 0;
      this.#head = 0;
    } else if (this.#head > 64) {
      entries.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
