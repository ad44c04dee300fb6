import { assertAlmostEquals, assertEquals } from "../util/assert.ts";
import { Baseliner, ewmaFactor } from "./baseliner.ts";
import { createOwdState } from "./owd_state.ts";

function setup() {
  const owd = createOwdState(["a"]);
  const reasons: string[] = [];
  const b = new Baseliner(owd, {
    tickS: 0.5,
    reselect: { requestReselect: (r) => reasons.push(r) },
  });
  return { owd, b, reasons };
}

Deno.test("EWMA factors match docs/algorithm.md §4.1", () => {
  assertEquals(ewmaFactor(0.5, 135), 0.9974360806902177);
  assertEquals(ewmaFactor(0.5, 0.4), 0.4204482076268573);
});

Deno.test("docs/algorithm.md §4.3 numeric example (sample 30, then 15)", () => {
  for (
    const [sample, recent, baseline] of [
      [30, 26.215966131358282, 20.025639193097824],
      [15, 17.522689245761143, 17.522689245761143],
    ]
  ) {
    const { owd, b } = setup();
    owd.baseline.set("a", { up_ewma: 20, down_ewma: 20, last_receive_time_s: 100 });
    owd.recent.set("a", { up_ewma: 21, down_ewma: 21, last_receive_time_s: 100 });
    assertEquals(
      b.ingest({ reflector: "a", upMs: sample, downMs: 21, receiveTimeS: 100.5 }),
      "updated",
    );
    assertAlmostEquals(owd.recent.get("a")!.up_ewma, recent, 1e-12);
    assertAlmostEquals(owd.baseline.get("a")!.up_ewma, baseline, 1e-12);
    if (sample === 30) {
      assertAlmostEquals(recent - baseline, 6.190326938260458, 1e-12);
    }
    assertEquals(owd.baseline.get("a")!.last_receive_time_s, 100.5);
  }
});

Deno.test("first sample creates both entries at the sample", () => {
  const { owd, b } = setup();
  assertEquals(b.ingest({ reflector: "a", upMs: 10, downMs: 12, receiveTimeS: 5 }), "created");
  assertEquals(owd.baseline.get("a"), { up_ewma: 10, down_ewma: 12, last_receive_time_s: 5 });
  assertEquals(owd.recent.get("a"), { up_ewma: 10, down_ewma: 12, last_receive_time_s: 5 });
});

Deno.test("30 s gap resets the EWMAs to the sample; 30 s exactly does not", () => {
  const { owd, b } = setup();
  b.ingest({ reflector: "a", upMs: 10, downMs: 10, receiveTimeS: 0 });
  assertEquals(b.ingest({ reflector: "a", upMs: 50, downMs: 50, receiveTimeS: 30 }), "updated");
  assertEquals(
    b.ingest({ reflector: "a", upMs: 80, downMs: 70, receiveTimeS: 60.01 }),
    "reset-stale",
  );
  assertEquals(owd.baseline.get("a")!.up_ewma, 80);
  assertEquals(owd.recent.get("a")!.down_ewma, 70);
});

Deno.test("outlier: marked stale, reselect requested, EWMAs untouched, next sample resets", () => {
  const { owd, b, reasons } = setup();
  b.ingest({ reflector: "a", upMs: 10, downMs: 10, receiveTimeS: 100 });
  assertEquals(
    b.ingest({ reflector: "a", upMs: 10, downMs: 5011, receiveTimeS: 100.5 }),
    "outlier",
  );
  assertEquals(owd.baseline.get("a"), { up_ewma: 10, down_ewma: 10, last_receive_time_s: 40.5 });
  assertEquals(owd.recent.get("a")!.last_receive_time_s, 40.5);
  assertEquals(reasons, ["outlier from a"]);
  // exactly +5000 is not an outlier
  const { b: b2 } = setup();
  b2.ingest({ reflector: "a", upMs: 10, downMs: 10, receiveTimeS: 100 });
  assertEquals(
    b2.ingest({ reflector: "a", upMs: 5010, downMs: 10, receiveTimeS: 100.5 }),
    "updated",
  );
  // the next sample after an outlier is a stale reset
  assertEquals(
    b.ingest({ reflector: "a", upMs: 12, downMs: 13, receiveTimeS: 101 }),
    "reset-stale",
  );
  assertEquals(owd.recent.get("a"), { up_ewma: 12, down_ewma: 13, last_receive_time_s: 101 });
});

Deno.test("absurd jump (> 50 min, cake-autorate rule) resets the reflector", () => {
  const { owd, b, reasons } = setup();
  b.ingest({ reflector: "a", upMs: 10, downMs: 10, receiveTimeS: 0 });
  const out = b.ingest({ reflector: "a", upMs: -86_399_000, downMs: 10, receiveTimeS: 0.5 });
  assertEquals(out, "reset-rollover");
  assertEquals(owd.baseline.get("a")!.up_ewma, -86_399_000);
  assertEquals(reasons, []);
  // a large but plausible drop is folded in normally
  const { b: b2 } = setup();
  b2.ingest({ reflector: "a", upMs: 10, downMs: 10, receiveTimeS: 0 });
  assertEquals(
    b2.ingest({ reflector: "a", upMs: -2_000_000, downMs: 10, receiveTimeS: 0.5 }),
    "updated",
  );
});

Deno.test("baseline never above recent, delta never negative over a random walk", () => {
  const { owd, b } = setup();
  let x = 20;
  for (let i = 0; i < 2000; i++) {
    x = Math.max(0, x + Math.sin(i * 1.7) * 3);
    b.ingest({ reflector: "a", upMs: x, downMs: 40 - x / 2, receiveTimeS: i * 0.5 });
    const base = owd.baseline.get("a")!, rec = owd.recent.get("a")!;
    if (base.up_ewma > rec.up_ewma || base.down_ewma > rec.down_ewma) {
      throw new Error(`baseline above recent at ${i}`);
    }
  }
});
