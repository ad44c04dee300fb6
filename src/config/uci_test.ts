import { assertEquals, assertThrows } from "../util/assert.ts";
import { findSection, parseUci, uciGet, uciGetAll, UciSyntaxError } from "./uci.ts";

const EXAMPLE = new URL("./testdata/upstream-example", import.meta.url);

Deno.test("uci: upstream example parses into sections, options and lists", () => {
  const file = parseUci(Deno.readTextFileSync(EXAMPLE), "example");
  assertEquals(file.sections.map((s) => s.type), [
    "network",
    "output",
    "advanced_settings",
    "plugins",
    "delay_histogram",
  ]);
  assertEquals(uciGet(file, "@network[0]", "upload_interface")?.value, "wan");
  assertEquals(uciGet(file, "@network[0]", "upload_interface")?.line, 3);
  // Trailing comments after a complete statement are ignored.
  assertEquals(uciGet(file, "@output[0]", "log_level")?.value, "WARN");
  assertEquals(uciGet(file, "@plugins[0]", "plugin_script")?.value, [
    "builtin:log_readings",
    "builtin:delay_tuner",
  ]);
  assertEquals(findSection(file, "dh")?.type, "delay_histogram");
  assertEquals(findSection(file, "@network[0]")?.anonymous, true);
});

Deno.test("uci: quoting, concatenation, escapes, later option wins, negative index", () => {
  const text = [
    "config a",
    "  option x bare",
    `  option y 'single # not a comment'`,
    `  option z "dq \\"esc\\" \\\\"`,
    `  option w 'con'"cat"enated`,
    "  option x second",
    "config a 'named'",
    "  option x last",
    "",
    "# comment line",
  ].join("\n");
  const f = parseUci(text, "t");
  assertEquals(uciGet(f, "@a[0]", "x")?.value, "second");
  assertEquals(uciGet(f, "@a[0]", "y")?.value, "single # not a comment");
  assertEquals(uciGet(f, "@a[0]", "z")?.value, 'dq "esc" \\');
  assertEquals(uciGet(f, "@a[0]", "w")?.value, "concatenated");
  assertEquals(uciGet(f, "@a[-1]", "x")?.value, "last");
  assertEquals(uciGet(f, "named", "x")?.value, "last");
  assertEquals(uciGet(f, "@a[5]", "x"), undefined);
  const all = uciGetAll(f, "@a[1]");
  assertEquals(all?.[".name"], "named");
  assertEquals(all?.[".anonymous"], false);
  assertEquals(all?.[".index"], 1);
  assertEquals(all?.x, "last");
});

const MALFORMED: [string, string, number, RegExp][] = [
  ["option before config", "option x 'y'", 1, /before any `config`/],
  ["config without type", "config", 1, /missing section type/],
  ["bad section type", "config netwörk", 1, /invalid section type/],
  ["bad section name", "config a 'na-me'", 1, /invalid section name/],
  ["extra after section", "config a b c", 1, /unexpected text after section name/],
  ["option without value", "config a\n option x", 2, /missing value/],
  ["option without name", "config a\n option", 2, /missing name/],
  ["unterminated single quote", "config a\n option x 'abc", 2, /unterminated single quote/],
  ["unterminated double quote", 'config a\n\n option x "abc', 3, /unterminated double quote/],
  ["extra tokens after value", "config a\n option x 'a' 'b'", 2, /unexpected text after value/],
  ["unknown keyword", "config a\n opton x 'y'", 2, /unknown keyword 'opton'/],
  ["bad option name", "config a\n option x.y 'z'", 2, /invalid option name/],
  ["list without value", "config a\n list l", 2, /missing value/],
  ["package without name", "package", 1, /expected `package <name>`/],
];

for (const [what, text, line, message] of MALFORMED) {
  Deno.test(`uci: malformed file (${what}) names file:line`, () => {
    const e = assertThrows(() => parseUci(text, "/etc/config/x"), UciSyntaxError);
    assertEquals(e.line, line);
    assertEquals(e.message.startsWith(`/etc/config/x:${line}: `), true, e.message);
    assertEquals(message.test(e.message), true, e.message);
  });
}

Deno.test("uci: a section type may hold any printable character, as libuci allows", () => {
  // The Rust port's OpenWrt package writes its single section so (docs/formats.md).
  const f = parseUci("config sqm-autorate 'main'\n  option upload_interface 'wan'\n", "t");
  assertEquals(f.sections[0].type, "sqm-autorate");
  assertEquals(uciGet(f, "@sqm-autorate[0]", "upload_interface")?.value, "wan");
});
