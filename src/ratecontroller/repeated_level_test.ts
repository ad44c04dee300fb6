import { assertEquals } from "../util/assert.ts";
import { RepeatedLevel } from "./repeated_level.ts";

/** lte's upload in a fade at about 2 Mbit/s, from about 8 Mbit/s (docs/controllers.md, "v85"). */
const AT_LINK = { delivered: 2000, linkLimited: true, rose: true, before: 8000 };

Deno.test("repeated level: a cut after a return that delivers the last link-limited cut's level again", () => {
  const r = new RepeatedLevel();
  assertEquals(r.cut(AT_LINK), undefined, "the first one only remembers");
  assertEquals(r.cut({ ...AT_LINK, delivered: 2500, before: 2600 }), 2500, "within 1.3×");
  assertEquals(r.cut({ ...AT_LINK, delivered: 1950, before: 2600 }), 1950, "either way");
  assertEquals(r.cut({ ...AT_LINK, delivered: 3000 }), undefined, "1.54× is a new level");
  assertEquals(r.cut({ ...AT_LINK, delivered: 2200 }), undefined, "2200 against 3000");
});

Deno.test("repeated level: only after a rise, measured only where the link limited", () => {
  const noRise = new RepeatedLevel();
  noRise.cut(AT_LINK);
  assertEquals(noRise.cut({ ...AT_LINK, rose: false }), undefined, "a cut in a burst of cuts");
  const atFloor = new RepeatedLevel();
  atFloor.cut(AT_LINK);
  // A cut at the minimum rate delivers the rate: it measures our shaper, not the link.
  assertEquals(
    atFloor.cut({ ...AT_LINK, delivered: 1000, linkLimited: false, rose: false }),
    undefined,
  );
  assertEquals(atFloor.cut({ ...AT_LINK, delivered: 2100 }), 2100, "still 2000's");
  const off = new RepeatedLevel({ ratio: 0 });
  off.cut(AT_LINK);
  assertEquals(off.cut(AT_LINK), undefined, "ratio 0: off");
});

Deno.test("repeated level: only a level under half the one before its first cut (a dip)", () => {
  // Cycles at the capacity: the first cut at 2000 came from 2400.
  const cycles = new RepeatedLevel();
  cycles.cut({ ...AT_LINK, before: 2400 });
  assertEquals(cycles.cut({ ...AT_LINK, before: 8000 }), undefined, "2000 against 2400 before it");
  const dip = new RepeatedLevel();
  dip.cut(AT_LINK);
  assertEquals(
    dip.cut({ ...AT_LINK, before: 2100 }),
    2000,
    "the level before the first cut counts",
  );
  assertEquals(new RepeatedLevel({ under: 0.2 }).cut(AT_LINK), undefined);
  const strict = new RepeatedLevel({ under: 0.2 });
  strict.cut(AT_LINK);
  assertEquals(strict.cut(AT_LINK), undefined, "0.25 of 8000 is not under 0.2");
});
