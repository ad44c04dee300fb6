import { assertEquals } from "./assert.ts";
import { blockingSleep, blockThread } from "./blocking_sleep.ts";

Deno.test("blockingSleep: blocks in steps of at most maxBlockMs, the event loop runs between", async () => {
  const events: string[] = [];
  const sleep = blockingSleep({
    block: (ms) => events.push(`block ${ms}`),
    yieldToLoop: () => {
      events.push("yield");
      return Promise.resolve();
    },
    maxBlockMs: 1000,
  });
  await sleep(2500);
  assertEquals(events, ["block 1000", "yield", "block 1000", "yield", "block 500"]);
  events.length = 0;
  await sleep(300);
  assertEquals(events, ["block 300"], "a tick's wait: one block, no timer");
  events.length = 0;
  await sleep(0);
  assertEquals(events, []);
});

Deno.test("blockingSleep: an aborted signal ends the wait at the next step", async () => {
  const ac = new AbortController();
  const events: string[] = [];
  const sleep = blockingSleep({
    block: (ms) => events.push(`block ${ms}`),
    yieldToLoop: () => {
      events.push("yield");
      ac.abort(); // e.g. SIGTERM handled by the event loop between two blocks
      return Promise.resolve();
    },
    maxBlockMs: 1000,
  });
  await sleep(5000, ac.signal);
  assertEquals(events, ["block 1000", "yield"]);
  await sleep(5000, ac.signal);
  assertEquals(events, ["block 1000", "yield"], "already aborted: no block at all");
});

Deno.test("blockThread: really blocks the thread (no timer or I/O runs meanwhile)", async () => {
  let timerRan = false;
  const timer = setTimeout(() => timerRan = true, 0);
  const t0 = performance.now();
  blockThread(30);
  const blocked = performance.now() - t0;
  assertEquals(timerRan, false, "a due timer waits for the block to end");
  assertEquals(blocked >= 29, true, `blocked ${blocked} ms`);
  await new Promise((r) => setTimeout(r, 1));
  clearTimeout(timer);
  assertEquals(timerRan, true);
});
