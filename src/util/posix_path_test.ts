import { posix } from "node:path";
import fc from "fast-check";
import { assertEquals } from "./assert.ts";
import { basename, dirname, isAbsolute, join, normalize, resolve } from "./posix_path.ts";

/** Paths made of the pieces that matter: slashes, dots, names. */
const pathArb = fc.array(fc.constantFrom("/", "//", ".", "..", "a", "bc", "./", "../", ".x"), {
  maxLength: 8,
}).map((parts) => parts.join(""));

Deno.test("posix_path: the same results as node:path's posix functions", () => {
  fc.assert(
    fc.property(pathArb, pathArb, (a, b) => {
      assertEquals(normalize(a), posix.normalize(a), `normalize ${a}`);
      assertEquals(isAbsolute(a), posix.isAbsolute(a), `isAbsolute ${a}`);
      assertEquals(basename(a), posix.basename(a), `basename ${a}`);
      assertEquals(dirname(a), posix.dirname(a), `dirname ${a}`);
      assertEquals(join(a, b), posix.join(a, b), `join ${a} ${b}`);
      assertEquals(resolve(a, b), posix.resolve(a, b), `resolve ${a} ${b}`);
      assertEquals(resolve(a), posix.resolve(a), `resolve ${a}`);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("posix_path: examples", () => {
  assertEquals(normalize("/etc/../tmp//sqm-autorate/./x/"), "/tmp/sqm-autorate/x/");
  assertEquals(normalize("../a/../../b"), "../../b");
  assertEquals(join("out", "stats.csv"), "out/stats.csv");
  assertEquals(resolve("/etc/config", "../x"), "/etc/x");
  assertEquals(basename("/tmp/sqm-autorate.csv"), "sqm-autorate.csv");
  assertEquals(dirname("/tmp/sqm-autorate/stats/s.csv"), "/tmp/sqm-autorate/stats");
  assertEquals(dirname("/tmp/sqm-autorate.csv"), "/tmp");
});
