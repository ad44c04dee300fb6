import { assertEquals } from "../src/util/assert.ts";
import { afterWarmUp } from "./_warm_up.ts";

/** A sleep that resolves when `release` is called, recording what it was asked for. */
function manualSleep() {
  const asked: number[] = [];
  let release = () => {};
  const sleep = (ms: number) => {
    asked.push(ms);
    return new Promise<void>((resolve) => (release = resolve));
  };
  return { asked, sleep, release: () => release() };
}

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("did not reject");
}

Deno.test("afterWarmUp: the window gets the work still running after the warm-up", async () => {
  const s = manualSleep();
  const work = deferred<string>();
  const pending = afterWarmUp(work.promise, { warmUpS: 60, sleep: s.sleep });
  let started = false;
  pending.then(() => (started = true));
  // A timer's turn: every microtask has run, so an answer before the warm-up's end would be in.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals([s.asked, started], [[60_000], false]);
  s.release();
  const { rest } = await pending;
  work.resolve("done");
  assertEquals(await rest, "done");
});

Deno.test("afterWarmUp: work that ends or fails within the warm-up is an error", async () => {
  const s = manualSleep();
  const early = afterWarmUp(Promise.resolve(1), { warmUpS: 60, sleep: s.sleep });
  assertEquals((await rejection(early)).message, "the work ended within its 60 s warm-up");
  const failed = afterWarmUp(Promise.reject(new Error("iperf3 died")), {
    warmUpS: 60,
    sleep: manualSleep().sleep,
  });
  assertEquals((await rejection(failed)).message, "iperf3 died");
});

Deno.test("afterWarmUp: no warm-up starts the window with the work, without waiting", async () => {
  const s = manualSleep();
  const { rest } = await afterWarmUp(Promise.resolve(7), { warmUpS: 0, sleep: s.sleep });
  assertEquals([await rest, s.asked], [7, []]);
});
