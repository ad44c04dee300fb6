import { assertEquals } from "../util/assert.ts";
import { recordingLogger as recorder } from "../log/recording_testing.ts";
import type { Shaper } from "../control/ports.ts";
import { sameRate, watchForeignRates } from "./foreign_rate.ts";

/** A shaper whose qdisc rate anyone can change (`inForce`), as tc would leave it. */
function fakeShaper(): Shaper & { inForce: number | undefined; reads: number; fail: boolean } {
  const s = {
    kind: "tbf" as const,
    ifname: "vdl",
    inForce: undefined as number | undefined,
    reads: 0,
    fail: false,
    setRate(kbit: number) {
      if (s.fail) return Promise.reject(new Error("tc failed"));
      s.inForce = kbit;
      return Promise.resolve();
    },
    check: () => Promise.resolve(),
    rateInForce() {
      s.reads++;
      return Promise.resolve(s.inForce);
    },
  };
  return s;
}

function watched() {
  const shaper = fakeShaper();
  const { logger, lines } = recorder();
  let now = 0;
  const pair = watchForeignRates({ dl: shaper, ul: fakeShaper() }, {
    logger,
    clock: { monotonicS: () => now, wallMs: () => now * 1000 },
  });
  return { shaper, lines, dl: pair.dl, at: (s: number) => now = s };
}

Deno.test("foreign rate: a rate changed behind the daemon's back is one WARN per episode", async () => {
  const w = watched();
  await w.dl.setRate(30000);
  await w.dl.setRate(30000); // the refresh: ours in force
  assertEquals(w.lines, []);
  // Another daemon sets 48000 between our refreshes, three times; then stops.
  for (const t of [10, 20, 30]) {
    w.shaper.inForce = 48000;
    w.at(t);
    await w.dl.setRate(30000);
    assertEquals(w.shaper.inForce, 30000); // ours set again, as before
  }
  w.at(40);
  await w.dl.setRate(30000);
  await w.dl.setRate(30000);
  assertEquals(w.lines, [
    "WARN the rate on vdl is 48000 kbit/s, not the 30000 kbit/s this daemon set: another " +
    "program changes it (a second sqm-autorate on another machine or for the same router " +
    "under another name, SQM scripts, tc by hand); setting ours again (logged again when it ends)",
    "DEBUG the rate on vdl is 48000 kbit/s again, not 30000",
    "DEBUG the rate on vdl is 48000 kbit/s again, not 30000",
    "INFO the rate on vdl is the one this daemon set again (30000 kbit/s), after 30 s in which " +
    "another program changed it (found at 3 refreshes)",
  ]);
});

Deno.test("foreign rate: only an unchanged rate is looked at; a new rate, a failed change and an unknown answer are not", async () => {
  const w = watched();
  await w.dl.setRate(30000);
  await w.dl.setRate(31000); // a change of ours: nothing to compare
  assertEquals(w.shaper.reads, 0);
  // A failed change: the rate in force is unknown until one works.
  w.shaper.fail = true;
  await w.dl.setRate(32000).catch(() => {});
  w.shaper.fail = false;
  w.shaper.inForce = 48000;
  await w.dl.setRate(31000);
  assertEquals(w.shaper.reads, 0);
  // Not answerable (replaced root, router away): nothing said.
  w.shaper.inForce = undefined;
  await w.dl.setRate(31000);
  assertEquals(w.shaper.reads, 1);
  assertEquals(w.lines, []);
});

Deno.test("foreign rate: tc's rounding is the same rate", () => {
  assertEquals(sameRate(30000.008, 30000), true);
  assertEquals(sameRate(1234000, 1234567), true); // HTB's text "1234Mbit"
  assertEquals(sameRate(48000, 30000), false);
  assertEquals(sameRate(2, 1), true); // a kbit either way at the bottom
});

Deno.test("foreign rate: shapers that cannot tell the rate in force pass through", () => {
  const plain: Shaper = {
    kind: "htb",
    ifname: "x",
    setRate: () => Promise.resolve(),
    check: () => Promise.resolve(),
  };
  const { logger } = recorder();
  const pair = watchForeignRates({ dl: plain, ul: plain }, { logger });
  assertEquals(pair.dl, plain);
});
