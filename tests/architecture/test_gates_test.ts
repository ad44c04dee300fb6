import { assertEquals } from "../../src/util/assert.ts";
import { needs } from "../../src/util/netns_testing.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`${ROOT}${dir}`)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...testFiles(path));
    else if (e.name.endsWith("_test.ts")) out.push(path);
  }
  return out.sort();
}

Deno.test("needs(): ignored with the reason in the name, never ignored under CI", () => {
  const ci = Deno.env.get("CI");
  try {
    Deno.env.delete("CI");
    assertEquals(needs("t", undefined), { name: "t", ignore: false });
    assertEquals(needs("t", "not root"), { name: "t (ignored: not root)", ignore: true });
    Deno.env.set("CI", "true");
    assertEquals(needs("t", "not root"), { name: "t", ignore: false });
  } finally {
    if (ci === undefined) Deno.env.delete("CI");
    else Deno.env.set("CI", ci);
  }
});

Deno.test("no test passes by printing 'skipped' and returning early", () => {
  // A test body that returns early on a missing prerequisite counts as passed: use needs() or
  // `ignore:` so the runner reports it as ignored (with the reason), or let it fail.
  const early = [
    /console\.log\([^\n]*skip[^\n]*\n\s*return\b/gi,
    /if \(await \w*[Ss]kip\w*\(\)\) return\b/g,
  ];
  const found: string[] = [];
  for (const file of [...testFiles("src"), ...testFiles("tests")]) {
    const text = Deno.readTextFileSync(`${ROOT}${file}`);
    for (const re of early) {
      for (const m of text.matchAll(re)) {
        found.push(`${file}:${text.slice(0, m.index).split("\n").length}`);
      }
    }
  }
  assertEquals(found, []);
});
