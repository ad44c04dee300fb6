import { assert, assertEquals } from "../../src/util/assert.ts";
import { measure, table } from "../../scripts/measure_startup.ts";

Deno.test("measure runs a binary with a fresh temp dir and counts what it leaves there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqma-measure-" });
  try {
    // A fake "binary" that leaves 1000 bytes in $TMPDIR, like a code cache would.
    const fake = `${dir}/fake`;
    await Deno.writeTextFile(
      fake,
      '#!/bin/sh\nhead -c 1000 /dev/zero > "$TMPDIR/cache.bin"\necho fake 1.0\n',
    );
    await Deno.chmod(fake, 0o755);
    const f = await measure(fake, 3);
    assertEquals(f.tempBytes, 1000);
    assert(f.coldMs > 0 && f.warmMedianMs > 0);
    assertEquals(f.sizeBytes, (await Deno.stat(fake)).size);
    const md = table([f], 3);
    assert(md.includes("| median of next 3 |") && md.includes("| 1 kB |"), md);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
