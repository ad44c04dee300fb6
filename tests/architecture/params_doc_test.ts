/**
 * docs/controller_parameters.md lists every constant of the capacity controller's rules and of the
 * reflector rules with its default and meaning, generated from the code (scripts/params_doc.ts).
 */
import { assertEquals } from "../../src/util/assert.ts";
import {
  formatValue,
  normalised,
  paramGroups,
  PARAMS_DOC,
  propertyDocs,
  renderDoc,
} from "../../scripts/params_doc.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("params doc: defaults and JSDoc are read as written", () => {
  assertEquals(formatValue(1 / 40), "0.025");
  assertEquals(formatValue({ dl: 0.6, ul: 0.4 }), "dl 0.6, ul 0.4");
  assertEquals(formatValue(Infinity), "∞");
  const src = "interface P {\n  /**\n   * Two\n   * lines.\n   */\n  a: number;\n  /** One. */\n" +
    "  readonly b?: boolean;\n}\nconst D = {\n  /** Later. */\n  a: 1,\n};\n";
  assertEquals([...propertyDocs(src)], [["a", "Two lines."], ["b", "One."]]);
});

Deno.test("params doc: every constant has a meaning in the code's JSDoc", async () => {
  const missing = (await paramGroups()).flatMap((g) =>
    g.params.filter((p) => p.meaning === "").map((p) => `${g.file}: ${g.name}.${p.key}`)
  );
  assertEquals(missing, []);
});

Deno.test("params doc: docs/controller_parameters.md is current (deno task params-doc)", async () => {
  const doc = Deno.readTextFileSync(`${ROOT}${PARAMS_DOC}`);
  assertEquals(normalised(doc), normalised(renderDoc(await paramGroups())));
});
