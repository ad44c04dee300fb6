import { assert, assertEquals } from "../util/assert.ts";
import { EMBEDDED_REFLECTORS_CSV } from "./embedded_list.ts";
import { renderEmbeddedModule } from "./generate_embedded_list.ts";
import {
  embeddedPool,
  INITIAL_PEERS,
  initialPeersFor,
  isIpv4,
  loadPool,
  parseReflectorCsv,
} from "./pool.ts";
import { seededRandom } from "../util/clock.ts";

const DATA = new URL("../../data/reflectors-icmp.csv", import.meta.url);

Deno.test("embedded list equals data/reflectors-icmp.csv byte for byte", async () => {
  const file = Deno.readTextFileSync(DATA);
  assertEquals(EMBEDDED_REFLECTORS_CSV, file);
  // and the generated module is what the generator would write now
  const module = Deno.readTextFileSync(new URL("./embedded_list.ts", import.meta.url));
  assertEquals(module, renderEmbeddedModule(file));
  assertEquals((await loadPool("")).length, 312);
});

Deno.test("embedded pool: 312 IPv4 reflectors including every initial peer", () => {
  const pool = embeddedPool();
  assertEquals(pool.length, 312);
  assert(pool.every(isIpv4));
  for (const p of INITIAL_PEERS) assert(pool.includes(p), p);
  assertEquals(parseReflectorCsv(EMBEDDED_REFLECTORS_CSV).problems, []);
});

Deno.test("CSV: bad lines are reported with line numbers and skipped", () => {
  const text = [
    "reflector_ip,ip_version,description",
    "1.2.3.4,4,ok",
    "300.1.1.1,4,bad octet",
    "not-an-ip,4,bad",
    "",
    "2001:db8::1,6,v6 row ignored",
    "5.6.7.8,x,bad version",
    "justone",
    "1.2.3.4,4,duplicate",
    "9.8.7.6,4,ok too\r",
  ].join("\n");
  const r = parseReflectorCsv(text);
  assertEquals(r.reflectors, ["1.2.3.4", "9.8.7.6"]);
  assertEquals(r.problems.map((p) => p.line), [3, 4, 7, 8]);
  assert(r.problems[0].message.includes("300.1.1.1"));
});

Deno.test("CSV: missing header is reported but data on line 1 is kept", () => {
  const r = parseReflectorCsv("1.1.1.1,4,x\n2.2.2.2,4,y");
  assertEquals(r.reflectors, ["1.1.1.1", "2.2.2.2"]);
  assertEquals(r.problems.map((p) => p.line), [1]);
});

Deno.test("loadPool: file overrides, warnings name file and line, errors name the file", async () => {
  const warnings: string[] = [];
  const files: Record<string, string> = {
    "/x.csv": "reflector_ip,ip_version,description\n10.0.0.1,4,a\nbad,4,b",
    "/empty.csv": "reflector_ip,ip_version,description\n",
    "/bare.csv": "10.0.0.2,4,a\n10.0.0.3,4,b",
    "/other.csv": "ip,version\n10.0.0.4,4,a",
  };
  const readTextFile = (p: string) =>
    p in files ? Promise.resolve(files[p]) : Promise.reject(new Error("No such file"));
  assertEquals(
    await loadPool("/x.csv", { readTextFile, warn: (m) => warnings.push(m) }),
    ["10.0.0.1"],
  );
  assertEquals(warnings, ['/x.csv:3: "bad" is not an IPv4 address; line skipped']);
  // Without the header a first line of data is used, and the warning says so.
  warnings.length = 0;
  const warn = (m: string) => warnings.push(m);
  assertEquals(await loadPool("/bare.csv", { readTextFile, warn }), ["10.0.0.2", "10.0.0.3"]);
  assertEquals(await loadPool("/other.csv", { readTextFile, warn }), ["10.0.0.4"]);
  const header = 'expected header "reflector_ip,ip_version,description"';
  assertEquals(warnings, [
    `/bare.csv:1: ${header}; read as data`,
    `/other.csv:1: ${header}; line skipped`,
  ]);
  for (const f of ["/empty.csv", "/missing.csv"]) {
    try {
      await loadPool(f, { readTextFile });
      throw new Error("expected an error");
    } catch (e) {
      assert((e as Error).message.startsWith(`reflector_list_file ${f}:`), String(e));
    }
  }
});

Deno.test("initialPeersFor: upstream's six with the shipped list, pool members otherwise", () => {
  assertEquals(initialPeersFor(embeddedPool(), { count: 5, random: () => 0 }), [...INITIAL_PEERS]);
  const custom = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.3",
    "9.9.9.9",
    "10.0.0.4",
    "10.0.0.5",
    "10.0.0.6",
  ];
  const peers = initialPeersFor(custom, { count: 5, random: seededRandom(3) });
  assertEquals(peers.length, 5);
  assertEquals(peers[0], "9.9.9.9");
  assertEquals(new Set(peers).size, 5);
  for (const p of peers) assert(custom.includes(p), p);
  assertEquals(
    initialPeersFor(["10.0.0.1", "10.0.0.2"], { count: 5, random: Math.random }).sort(),
    [
      "10.0.0.1",
      "10.0.0.2",
    ],
  );
  assertEquals(initialPeersFor([], { count: 5, random: Math.random }), []);
});
