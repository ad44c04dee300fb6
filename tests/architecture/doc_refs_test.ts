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

/**
 * The names a doc's quoted citations may use: its headings (`## v62: counters that read low`),
 * and the bold names that open its paragraphs and list items (`- **Turn rules** (…)`).
 */
function names(doc: string): { headings: string[]; bold: string[] } {
  const text = Deno.readTextFileSync(`${ROOT}docs/${doc}`);
  return {
    headings: [...text.matchAll(/^#{1,6} (.*)$/gm)].map((m) => m[1]),
    bold: [...text.matchAll(/\*\*([^*]+)\*\*/g)].map((m) => m[1]),
  };
}

/**
 * The quoted names a file cites a doc by: `docs/controllers.md, "v62"`, `docs/controllers.md "v74"`,
 * `docs/controllers.md ("Design")`, `docs/controllers.md, "v36", "v39"`, also across comment
 * lines.
 */
function quotedCitations(source: string): { doc: string; name: string }[] {
  const text = source.replace(/\n\s*(?:\*|\/\/|--)\s?/g, " ");
  const out: { doc: string; name: string }[] = [];
  for (const m of text.matchAll(/docs\/([\w-]+\.md)(?:[,;]\s*|\s+\(?)((?:"[^"\n]+"(?:,\s*)?)+)/g)) {
    for (const q of m[2].matchAll(/"([^"]+)"/g)) out.push({ doc: m[1], name: q[1] });
  }
  return out;
}

Deno.test("quotedCitations reads the forms the code uses", () => {
  assertEquals(
    quotedCitations('x (docs/controllers.md, "v36", "v39").\n * see docs/a.md\n * ("B c")'),
    [{ doc: "controllers.md", name: "v36" }, { doc: "controllers.md", name: "v39" }, {
      doc: "a.md",
      name: "B c",
    }],
  );
  // A string literal that ends at the doc's name is no citation.
  assertEquals(quotedCitations('new URL("../docs/plugins.md", import.meta.url); f("x")'), []);
});

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

/** README.md and every docs/*.md, whose prose cites other docs the same way. */
function docsToScan(): string[] {
  const docs = [...Deno.readDirSync(`${ROOT}docs`)].map((e) => e.name).filter((n) =>
    n.endsWith(".md")
  );
  return ["README.md", ...docs.sort().map((n) => `docs/${n}`)];
}

Deno.test("code and docs cite only headings and bold names the docs have", () => {
  const problems: string[] = [];
  const known = new Map<string, { headings: string[]; bold: string[] }>();
  const sources = [
    ...filesToScan().filter((f) => f !== "tests/architecture/doc_refs_test.ts")
      .map((file) => ({ file, text: Deno.readTextFileSync(`${ROOT}${file}`) })),
    // Markdown wraps prose: a citation may break anywhere.
    ...docsToScan().map((file) => ({
      file,
      text: Deno.readTextFileSync(`${ROOT}${file}`).replace(/\n\s*/g, " "),
    })),
  ];
  for (const { file, text } of sources) {
    for (const c of quotedCitations(text)) {
      let n = known.get(c.doc);
      if (n === undefined) {
        try {
          n = names(c.doc);
        } catch {
          continue; // the test above reports a missing doc
        }
        known.set(c.doc, n);
      }
      // "v62" cites "v62: counters that read low"; "Turn rules" the bold "Turn rules".
      const found = n.headings.some((h) => h.startsWith(c.name)) ||
        n.bold.some((b) => b.startsWith(c.name));
      if (!found) problems.push(`${file}: docs/${c.doc} has no heading "${c.name}"`);
    }
  }
  assertEquals(problems, []);
});

/**
 * The research versions docs/controllers.md names in a heading (`#### v44: …`, `v25a–v25j`) or in
 * its design section (`**Limited return** (v22)`), as numbers: `v43f` is under `v43`.
 */
function controllerVersions(): Set<string> {
  const text = Deno.readTextFileSync(`${ROOT}docs/controllers.md`);
  const design = text.slice(text.indexOf("### Design"), text.indexOf("### Measurements"));
  const headings = [...text.matchAll(/^#{2,6} .*$/gm)].map((m) => m[0]).join("\n");
  return new Set([...`${headings}\n${design}`.matchAll(/\bv(\d+)/g)].map((m) => m[1]));
}

Deno.test("code cites only research versions docs/controllers.md has", () => {
  const known = controllerVersions();
  const problems: string[] = [];
  for (const file of filesToScan()) {
    const lines = Deno.readTextFileSync(`${ROOT}${file}`).split("\n");
    lines.forEach((line, i) => {
      // Only a line that cites the doc: `(v44, docs/controllers.md)`, `docs/controllers.md "v74"`.
      if (!line.includes("docs/controllers.md")) return;
      for (const m of line.matchAll(/\bv(\d+)[a-z]*\d*\b/g)) {
        if (!known.has(m[1])) problems.push(`${file}:${i + 1}: docs/controllers.md has no ${m[0]}`);
      }
    });
  }
  assertEquals(problems, []);
});
