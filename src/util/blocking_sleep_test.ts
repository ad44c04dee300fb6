import { assertEquals } from "./assert.ts";
import { blockingSleep, type BlockingSleepOptions, blockThread } from "./blocking_sleep.ts";

/** A block and a long sleep that only record what they were asked for. */
function recording(events: string[]): Pick<BlockingSleepOptions, "block" | "longSleep"> {
  return {
    block: (ms) => events.push(`block ${ms}`),
    longSleep: (ms) => {
      events.push(`timer ${ms}`);
      return Promise.resolve();
    },
  };
}

Deno.test("blockingSleep: a wait up to maxBlockMs blocks once; a longer one goes to the timer", async () => {
  const events: string[] = [];
  const sleep = blockingSleep({
    ...recording(events),
    maxBlockMs: 1000,
  });
  await sleep(300);
  await sleep(1000);
  await sleep(2500);
  await sleep(0);
  assertEquals(events, ["block 300", "block 1000", "timer 2500"]);
});

Deno.test("blockingSleep: does not wait at all once the signal has fired", async () => {
  const ac = new AbortController();
  const events: string[] = [];
  const sleep = blockingSleep({
    ...recording(events),
  });
  ac.abort();
  await sleep(500, ac.signal);
  await sleep(5000, ac.signal);
  assertEquals(events, []);
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

Deno.test("blockingSleep: a wait while needsTurns holds goes to the timer, the next one blocks again", async () => {
  const events: string[] = [];
  let turns = true;
  const sleep = blockingSleep({ ...recording(events), needsTurns: () => turns });
  await sleep(90);
  turns = false;
  await sleep(95);
  assertEquals(events, ["timer 90", "block 95"]);
});
