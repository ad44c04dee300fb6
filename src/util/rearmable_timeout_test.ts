import { assertEquals } from "./assert.ts";
import { realTimeoutTimers, RearmableTimeout, type TimeoutTimers } from "./rearmable_timeout.ts";

/** Timers in virtual time: `advance` fires what is due; `refreshable` timers count refreshes. */
class FakeTimers implements TimeoutTimers {
  now = 0;
  created = 0;
  cleared = 0;
  refreshed = 0;
  readonly #armed = new Set<{ at: number; ms: number; fn: () => void; refresh?: () => void }>();

  constructor(readonly refreshable: boolean) {}

  setTimeout(fn: () => void, ms: number): unknown {
    this.created++;
    const t: { at: number; ms: number; fn: () => void; refresh?: () => void } = {
      at: this.now + ms,
      ms,
      fn,
    };
    if (this.refreshable) {
      t.refresh = () => {
        this.refreshed++;
        t.at = this.now + t.ms;
        this.#armed.add(t); // a fired timer is re-armed by refresh, as Deno's are
      };
    }
    this.#armed.add(t);
    return t;
  }

  clearTimeout(timer: unknown): void {
    this.cleared++;
    this.#armed.delete(timer as { at: number; ms: number; fn: () => void });
  }

  nowMs(): number {
    return this.now;
  }

  get armed(): number {
    return this.#armed.size;
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.#armed].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.now = due.at;
      this.#armed.delete(due);
      due.fn();
    }
    this.now = end;
  }
}

Deno.test("RearmableTimeout: expires once a countdown runs out, not when stopped first", () => {
  const timers = new FakeTimers(true);
  let expired = 0;
  const t = new RearmableTimeout(() => expired++, { timers });
  t.start(100);
  timers.advance(99);
  assertEquals(expired, 0);
  timers.advance(1);
  assertEquals(expired, 1);
  assertEquals(t.running, false);
  t.start(100);
  timers.advance(50);
  t.stop();
  timers.advance(500);
  assertEquals(expired, 1);
});

Deno.test("RearmableTimeout: successive waits restart one timer instead of creating one each", () => {
  const timers = new FakeTimers(true);
  let expired = 0;
  const t = new RearmableTimeout(() => expired++, { timers });
  for (let i = 0; i < 10; i++) {
    t.start(1000);
    timers.advance(1); // the answer comes
    t.stop();
    timers.advance(499); // the next tick
  }
  assertEquals({ created: timers.created, cleared: timers.cleared, refreshed: timers.refreshed }, {
    created: 1,
    cleared: 0,
    refreshed: 9,
  });
  assertEquals(expired, 0);
  // Left alone, the armed timer fires once, finds no countdown and is not re-armed.
  timers.advance(5000);
  assertEquals([expired, timers.armed], [0, 0]);
  // The next wait arms a timer again and still times out.
  t.start(1000);
  timers.advance(1000);
  assertEquals(expired, 1);
});

Deno.test("RearmableTimeout: a countdown longer than the armed timer's is waited out in full", () => {
  const timers = new FakeTimers(true);
  let expired = 0;
  const t = new RearmableTimeout(() => expired++, { timers });
  t.start(100);
  t.stop();
  t.start(300); // another duration: a new timer
  timers.advance(299);
  assertEquals(expired, 0);
  timers.advance(1);
  assertEquals(expired, 1);
});

Deno.test("RearmableTimeout: without refresh() each countdown re-creates the timer; dispose clears it", () => {
  const timers = new FakeTimers(false);
  let expired = 0;
  const t = new RearmableTimeout(() => expired++, { timers });
  t.start(100);
  t.stop();
  t.start(100);
  timers.advance(100);
  assertEquals([expired, timers.created, timers.cleared], [1, 2, 1]);
  t.start(100);
  t.dispose();
  timers.advance(1000);
  assertEquals([expired, timers.armed], [1, 0]);
});

Deno.test("RearmableTimeout: Deno's timers can be restarted through refresh()", () => {
  // The saving depends on what setTimeout returns at run time; if that changes, the fallback
  // (clear and create per wait) still works, and this test says so. That real countdowns expire
  // is shown by the coprocess tests with a hung helper (src/counters/counters_test.ts).
  const timer = realTimeoutTimers.setTimeout(() => {}, 60_000);
  try {
    assertEquals(typeof (timer as { refresh?: unknown }).refresh, "function");
  } finally {
    realTimeoutTimers.clearTimeout(timer);
  }
});
