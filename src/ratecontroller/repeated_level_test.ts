import { assertEquals } from "../util/assert.ts";
import { RepeatedLevel } from "./repeated_level.ts";

/** lte's upload in a fade at about 2 Mbit/s (docs/controllers.md, "v85"). */
const AT_LINK = { delivered: 2000, linkLimited: true, rose: true };

Deno.test("repeated level: a cut after a return that delivers the last link-limited cut's level again", () => {
  const r = new RepeatedLevel();
  assertEquals(r.cut(AT_LINK), undefined, "the first one only remembers");
  assertEquals(r.cut({ delivered: 2500, linkLimited: true, rose: true }), 2500, "within 1.3×");
  assertEquals(r.cut({ delivered: 1950, linkLimited: true, rose: true }), 1950, "either way");
  assertEquals(
    r.cut({ delivered: 3000, linkLimited: true, rose: true }),
    undefined,
    "1.54× is a new level",
  );
  assertEquals(
    r.cut({ delivered: 2200, linkLimited: true, rose: true }),
    undefined,
    "2200 against 3000",
  );
});

Deno.test("repeated level: only after a rise, measured only where the link limited", () => {
  const noRise = new RepeatedLevel();
  noRise.cut(AT_LINK);
  assertEquals(noRise.cut({ ...AT_LINK, rose: false }), undefined, "a cut in a burst of cuts");
  const atFloor = new RepeatedLevel();
  atFloor.cut(AT_LINK);
  // A cut at the minimum rate delivers the rate: it measures our shaper, not the link.
  assertEquals(atFloor.cut({ delivered: 1000, linkLimited: false, rose: false }), undefined);
  assertEquals(
    atFloor.cut({ delivered: 2100, linkLimited: true, rose: true }),
    2100,
    "still 2000's",
  );
  const off = new RepeatedLevel({ ratio: 0 });
  off.cut(AT_LINK);
  assertEquals(off.cut(AT_LINK), undefined, "ratio 0: off");
});
