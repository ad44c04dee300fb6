import { assertEquals } from "../../src/util/assert.ts";
import { sourceFiles } from "./import_graph.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Every `.ts` file under src/, tests/, bench/, scripts/ (tests included), and lua/ scripts. */
function filesToScan(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(`${ROOT}${dir}`)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (/\.(ts|lua)$/.test(e.name)) out.push(path);
    }
  };
  for (const dir of ["src", "tests", "bench", "scripts", "lua"]) walk(dir);
  return out.sort();
}

/** Section numbers of a doc: `## 4. Title` → "4", `### 4.2 Title` → "4.2". */
function sections(doc: string): Set<string> {
  const text = Deno.readTextFileSync(`${ROOT}docs/${doc}`);
  return new Set([...text.matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.? /gm)].map((m) => m[1]));
}

Deno.test("sourceFiles helper sees the docs' subjects", () => {
  // Guards the scan below against silently scanning nothing.
  assertEquals(sourceFiles(ROOT, "src").includes("src/control/loop.ts"), true);
  assertEquals(filesToScan().includes("lua/ewma.lua"), true);
});

Deno.test("code cites only docs that exist, and only sections they have", () => {
  const problems: string[] = [];
  const known = new Map<string, Set<string>>();
  for (const file of filesToScan()) {
    if (file === "tests/architecture/doc_refs_test.ts") continue;
    const lines = Deno.readTextFileSync(`${ROOT}${file}`).split("\n");
    lines.forEach((line, i) => {
      // A bare `name.md` citation (no docs/ or README) points outside the repository.
      for (const m of line.matchAll(/(?<![\w/.-])(algorithm|interfaces|pingers)\.md/g)) {
        problems.push(`${file}:${i + 1}: cites ${m[0]}, which is not a project doc`);
      }
      for (
        const m of line.matchAll(
          /docs\/([\w-]+\.md)((?:,? §\d+(?:\.\d+)*(?:[–-]§?\d+(?:\.\d+)*)?)*)/g,
        )
      ) {
        const doc = m[1];
        let secs = known.get(doc);
        if (secs === undefined) {
          try {
            secs = sections(doc);
          } catch {
            problems.push(`${file}:${i + 1}: docs/${doc} does not exist`);
            continue;
          }
          known.set(doc, secs);
        }
        for (const s of m[2].matchAll(/§(\d+(?:\.\d+)*)/g)) {
          if (!secs.has(s[1])) problems.push(`${file}:${i + 1}: docs/${doc} has no §${s[1]}`);
        }
      }
    });
  }
  assertEquals(problems, []);
});
