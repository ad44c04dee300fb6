import { assertEquals } from "./assert.ts";
import { closestMatch, didYouMean, editDistance } from "./suggest.ts";

Deno.test("editDistance counts insertions, deletions, substitutions and swaps", () => {
  assertEquals(editDistance("network", "network"), 0);
  assertEquals(editDistance("netwrok", "network"), 1);
  assertEquals(editDistance("upload_interfce", "upload_interface"), 1);
  assertEquals(editDistance("abc", ""), 3);
  assertEquals(editDistance("kitten", "sitting"), 3);
});

Deno.test("closestMatch suggests only likely misspellings, ignoring case", () => {
  const names = ["network", "output", "advanced_settings", "plugins"];
  assertEquals(closestMatch("netwrok", names), "network");
  assertEquals(closestMatch("advanced_setting", names), "advanced_settings");
  assertEquals(closestMatch("EWMA", ["ewma"]), "ewma");
  assertEquals(closestMatch("delay_histogram", names), undefined);
  assertEquals(didYouMean("outptu", names), ' (did you mean "output"?)');
  assertEquals(didYouMean("zzz", names), "");
});
