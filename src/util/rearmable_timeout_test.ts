import { assertEquals } from "./assert.ts";
import { RearmableTimeout, type TimeoutTimers } from "./rearmable_timeout.ts";

/** Timers in virtual time: `advance` fires what is due. */
class FakeTimers implements TimeoutTimers {
  now = 0;
  created = 0;
  cleared = 0;
  readonly #armed = new Set<{ at: number; ms: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    this.created++;
    const t = { at: this.now + ms, ms, fn };
    this.#armed.add(t);
    return t;
  }

  clearTimeout(timer: unknown): void {
    this.cleared++;
    this.#armed.delete(timer as { at: number; ms: number; fn: () => void });
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

Deno.test("RearmableTimeout: a countdown that arms the timer expires when it runs out", () => {
  const timers = new FakeTimers();
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

Deno.test("RearmableTimeout: a countdown started on an armed timer expires within ms to 2 ms", () => {
  const timers = new FakeTimers();
  let expired = 0;
  const t = new RearmableTimeout(() => expired++, { timers });
  t.start(100); // arms the timer, due at 100
  timers.advance(1);
  t.stop();
  timers.advance(39);
  t.start(100); // at 40: seen by the firing at 100, which re-arms for 200
  timers.advance(99); // 139: ran 99 ms
  assertEquals(expired, 0);
  timers.advance(60); // 199
  assertEquals(expired, 0);
  timers.advance(1); // 200: ran 160 ms, a full period since the firing that saw it
  assertEquals(expired, 1);
});

Deno.test("RearmableTimeout: successive waits touch no timer until it fires", () => {
  const timers = new FakeTimers();
  let expired = 0;
  const t = new RearmableTimeout(() => expired++, { timers });
  for (let i = 0; i < 20; i++) {
    t.start(1000);
    timers.advance(1); // the answer comes
    t.stop();
    timers.advance(99); // the next decision
  }
  // 2 s of waits ten a second: the timer was armed by the first wait, fired at 1000 with no wait
  // running, was armed by the next one and fired at 2000, again with none running.
  assertEquals({ created: timers.created, cleared: timers.cleared, armed: timers.armed }, {
    created: 2,
    cleared: 0,
    armed: 0,
  });
  assertEquals(expired, 0);
  // The next wait arms a timer again and still times out.
  t.start(1000);
  timers.advance(1000);
  assertEquals(expired, 1);
});

Deno.test("RearmableTimeout: a wait running when the timer fires is re-armed for, not expired", () => {
  const timers = new FakeTimers();
  let expired = 0;
  const t = new RearmableTimeout(() => expired++, { timers });
  t.start(1000);
  t.stop();
  timers.advance(999);
  t.start(1000); // at 999, still waiting at the firing (1000)
  timers.advance(1);
  assertEquals([expired, t.running, timers.armed], [0, true, 1]);
  t.stop();
  timers.advance(5000);
  assertEquals(expired, 0);
});

Deno.test("RearmableTimeout: another duration arms a new timer; dispose clears it", () => {
  const timers = new FakeTimers();
  let expired = 0;
  const t = new RearmableTimeout(() => expired++, { timers });
  t.start(100);
  t.stop();
  t.start(300); // another duration: a new timer, the countdown waited out in full
  timers.advance(299);
  assertEquals(expired, 0);
  timers.advance(1);
  assertEquals([expired, timers.created, timers.cleared], [1, 2, 1]);
  t.start(100);
  t.dispose();
  timers.advance(1000);
  assertEquals([expired, timers.armed], [1, 0]);
});
