/**
 * docs/install.md's commands, pasted in the directory a release was downloaded to, find every file
 * they install: each is downloaded by the install step and published by the release workflow with
 * a checksum. Until the twenty-sixth session a release had the binaries and SHA256SUMS only, while
 * the steps installed `packaging/openwrt/sqm-autorate.config` and the units from a checkout
 * (docs/install.md, "Install the release binary").
 */
import { assert, assertEquals } from "../../src/util/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The shell blocks of docs/install.md, continuation lines joined. */
function shellBlocks(): string[] {
  const doc = Deno.readTextFileSync(`${ROOT}docs/install.md`);
  return [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].replaceAll("\\\n", " "));
}

/** The files the install step downloads from the release (`for f in …; do curl …`). */
function downloaded(): string[] {
  const loop = shellBlocks().join("\n").match(/for f in ([^;]+); do curl -fLO "\$BASE\/\$f"/);
  assert(loop !== null, "install.md downloads the service files in a `for f in …` loop");
  return loop[1].trim().split(/\s+/);
}

/** The source of every `install FILE DEST` whose FILE is relative (the binary aside). */
function installedRelative(): string[] {
  const out: string[] = [];
  for (const line of shellBlocks().join("\n").split("\n")) {
    const m = line.match(/^\s*(?:sudo )?install (?:-m \d+ )?(\S+) \S+\s*(?:#.*)?$/);
    if (m === null || m[1].startsWith("/") || m[1].startsWith("-")) continue;
    const file = m[1].replaceAll('"', "");
    if (file.startsWith("sqm-autorate-$")) continue; // the binary, downloaded by name
    out.push(file);
  }
  return out;
}

Deno.test("release assets: every file install.md installs is downloaded by its install step", () => {
  const files = installedRelative();
  assert(files.length >= 5, `found ${files.join(", ")}`);
  const got = new Set(downloaded());
  assertEquals(files.filter((f) => !got.has(f)), []);
});

Deno.test("release assets: the release publishes each downloaded file, with its checksum", () => {
  const yml = Deno.readTextFileSync(`${ROOT}.github/workflows/release.yml`).replaceAll(
    "\\\n",
    " ",
  );
  const sums = yml.match(/sha256sum ([^>\n]+) > SHA256SUMS/)?.[1].trim().split(/\s+/) ?? [];
  const publish = yml.match(/gh release create [^\n]*/)?.[0] ?? "";
  const artifact = yml.match(/name: binaries\n\s+path: \|\n((?:\s+\S+\n)+)/)?.[1] ?? "";
  for (const file of downloaded()) {
    assert(sums.includes(file), `${file} in SHA256SUMS`);
    assert(publish.includes(` dist/${file}`), `${file} published by gh release create`);
    assert(artifact.includes(`dist/${file}\n`), `${file} in the uploaded artifact`);
    const packaged = [`packaging/openwrt/${file}`, `packaging/systemd/${file}`, `docs/${file}`];
    assert(packaged.some((p) => yml.includes(p)), `${file} copied from packaging/ or docs/`);
  }
});
