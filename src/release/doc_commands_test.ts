/**
 * The `sqm-autorate …` command lines the docs show for the installed binary name only files its
 * permission set lets it read or write, so each runs when pasted (docs/simulator.md's quick start
 * wrote `--out results/` and `--svg docs/demo.svg` until the twenty-sixth session).
 */
import { assertEquals } from "../util/assert.ts";
import { DAEMON_MANIFEST } from "./manifest.ts";
import { pathAllowed } from "./manifest_paths.ts";
import { BUILTIN_TRACES } from "../sim/trace.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Options whose value is a file the binary writes, or reads. */
const WRITES = ["--out", "--svg"];
const READS = ["--trace", "--config", "--speed-hist", "--reflector-list-file", "--list"];

/** Every `sqm-autorate simulate|plot|check-config|run …` line in a shell block of a doc. */
function commandLines(): { at: string; line: string }[] {
  const out: { at: string; line: string }[] = [];
  const docs = ["README.md", ...[...Deno.readDirSync(`${ROOT}docs`)].map((e) => `docs/${e.name}`)];
  for (const doc of docs.filter((d) => d.endsWith(".md")).sort()) {
    const text = Deno.readTextFileSync(`${ROOT}${doc}`);
    for (const block of text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
      for (const line of block[1].split("\n")) {
        if (/^(sudo )?sqm-autorate /.test(line)) out.push({ at: doc, line });
      }
    }
  }
  return out;
}

Deno.test("docs: the binary's command lines name only files its permission set allows", () => {
  const refused: string[] = [];
  const lines = commandLines();
  for (const { at, line } of lines) {
    const words = line.replace(/#.*$/, "").trim().split(/\s+/);
    words.forEach((word, i) => {
      const value = words[i + 1];
      if (value === undefined) return;
      if (WRITES.includes(word) && !pathAllowed(value, DAEMON_MANIFEST.write)) {
        refused.push(`${at}: ${word} ${value} (write)`);
      }
      const builtin = word === "--trace" && (BUILTIN_TRACES as readonly string[]).includes(value);
      if (READS.includes(word) && !builtin && !pathAllowed(value, DAEMON_MANIFEST.read)) {
        refused.push(`${at}: ${word} ${value} (read)`);
      }
    });
  }
  assertEquals(refused, []);
  // The scan sees the quick start at all.
  assertEquals(lines.some((l) => l.line.includes("simulate --compare --svg")), true);
});
