import { assert, assertEquals } from "../util/assert.ts";
import { Bystander } from "./bystander.ts";

/** A download that carried 20000 kbit/s without a queue at t = 10, and a cut at 10.5 s. */
const AT = { uploadCutS: 10.4, thr: 19000, inForce: 20000, recall: 24000 };

function carried(): Bystander {
  const b = new Bystander();
  b.noteClear(10, 20000);
  return b;
}

Deno.test("bystander: a cut soon after the upload's, delivering most of the rate, soon after a clear load", () => {
  assert(carried().test(10.5, AT), "a bystander's cut");
});

Deno.test("bystander: not long after the upload's cut, nor in a collapse, nor far above what it carried", () => {
  const cases: [string, Partial<typeof AT>][] = [
    ["the upload's cut is over 0.5 s old", { uploadCutS: 9.9 }],
    ["the download delivers under 0.6 of its rate", { thr: 11000 }],
    ["the remembered level is over 3 times what it carried", { recall: 61000 }],
  ];
  for (const [why, x] of cases) assert(!carried().test(10.5, { ...AT, ...x }), why);
  assert(!new Bystander().test(10.5, AT), "without a clear load before it");
  assert(!carried().test(15.5, { ...AT, uploadCutS: 15.4 }), "a clear load over 5 s old");
  assert(!new Bystander({ enabled: false }).test(10.5, AT), "off");
});

Deno.test("bystander: an ordinary cut forgets what was carried before it, a starved one does not", () => {
  const ordinary = carried();
  ordinary.cut(10.2, { bystander: false, starved: false });
  assert(!ordinary.test(10.5, AT), "after an ordinary cut");
  const starved = carried();
  starved.cut(10.2, { bystander: false, starved: true });
  assert(starved.test(10.5, AT), "after a starved cut");
});

Deno.test("bystander: after a bystander's cut the quick return climbs to near what was carried, then stops", () => {
  const b = carried();
  b.noteClear(10.1, 18000);
  b.cut(10.5, { bystander: true, starved: false });
  assertEquals(b.quickTo(17000), 0.95 * 20000, "0.95 of the most it carried");
  assertEquals(b.quickTo(19000), undefined);
  b.cut(11, { bystander: false, starved: true });
  assertEquals(b.quickTo(17000), undefined, "after another cut, the usual return");
});

Deno.test("bystander: a cut delivering under 0.85 of what was carried is a bystander's without an upload cut (v49s)", () => {
  const late = { ...AT, uploadCutS: 5 };
  assert(carried().test(10.5, { ...late, thr: 16000 }), "0.8 of what it carried");
  assert(!carried().test(10.5, { ...late, thr: 17500 }), "0.875 of it: an ordinary cut");
  assert(!carried().test(10.5, { ...late, thr: 11000 }), "under 0.6 of its rate: a collapse");
  assert(!new Bystander().test(10.5, { ...late, thr: 16000 }), "without a clear load before it");
  const off = new Bystander({ shortfall: 0 });
  off.noteClear(10, 20000);
  assert(!off.test(10.5, { ...late, thr: 16000 }), "off");
});
