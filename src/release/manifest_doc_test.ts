/** docs/install.md, "Paths the binary may use", names every entry of the daemon's manifest. */
import { assertEquals } from "../util/assert.ts";
import { DAEMON_MANIFEST } from "./manifest.ts";

const DOC = new URL("../../docs/install.md", import.meta.url);

Deno.test("docs/install.md lists every read, write, run and net entry of permissions.daemon", () => {
  const text = Deno.readTextFileSync(DOC);
  const start = text.indexOf("### Paths the binary may use");
  const section = text.slice(start, text.indexOf("\n## ", start));
  const m = DAEMON_MANIFEST;
  const entries = [...m.read, ...m.write, ...m.run, ...m.env.allow, ...m.env.ignore];
  // The listen addresses are written as `port 9101 of HOST`, the broker ones whole.
  const net = m.net.map((e) => e.endsWith(":9101") ? e.slice(0, -":9101".length) : e);
  const missing = [...entries, ...net].filter((e) => !section.includes(`\`${e}\``));
  assertEquals(missing, [], "entries of permissions.daemon missing from docs/install.md");
});
