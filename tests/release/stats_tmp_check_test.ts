/**
 * check-config under the release permission set tries a statistics file directly in `/tmp` that is
 * not there yet: it may write the file but not look at `/tmp` itself, so until the twenty-seventh
 * session it said nothing and `configuration OK` on a read-only `/tmp` (docs/operation.md,
 * "Statistics files on a full or read-only /tmp"). Run with a `/tmp` of its own (a private mount
 * namespace: a tiny tmpfs, read-only or not), so the machine's /tmp is never touched.
 */
import { assert, assertEquals } from "../../src/util/assert.ts";
import { tmpfsSkipReason } from "../../src/util/tmpfs_testing.ts";
import { needs } from "../../src/util/netns_testing.ts";
import { daemonRunArgs, ROOT } from "./run_deno.ts";

/** check-config of upstream's default stats files, with `/tmp` a fresh tmpfs mounted `options`. */
async function checkWithTmp(options: string): Promise<{ code: number; stderr: string }> {
  const args = daemonRunArgs("main.ts", [
    "check-config",
    ...["--ul", "wan", "--dl", "ifb4wan", "--ub", "20000", "--db", "100000"],
    "--suppress-statistics",
    "no",
  ]);
  // A checkout under /tmp (CI clones to /tmp/ci) would be hidden by the new /tmp: it is bound back
  // at its path (`.`, not canonicalized, is still the old directory) while the tmpfs is writable,
  // and unbound, with the directories made for it removed, before `/tmp` is listed.
  const script = `
    root="$PWD"
    mount -t tmpfs -o size=1m none /tmp || exit
    case "$root" in
      /tmp/*) mkdir -p "$root" && mount --no-canonicalize --bind . "$root" && cd "$root" || exit ;;
    esac
    mount -o remount,${options} /tmp || exit
    "$0" "$@" || exit
    case "$root" in
      /tmp/*) cd / && umount "$root" && mount -o remount,rw /tmp &&
        rm -r "/tmp/$(echo "\${root#/tmp/}" | cut -d/ -f1)" || exit ;;
    esac
    ls -A /tmp >&2`;
  const out = await new Deno.Command("unshare", {
    args: ["-m", "--propagation", "private", "sh", "-c", script, Deno.execPath(), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test(
  needs(
    "-P=daemon check-config: a stats file directly in a read-only /tmp is named; a writable /tmp keeps no trace",
    tmpfsSkipReason(),
  ),
  async () => {
    const ro = await checkWithTmp("ro");
    assertEquals(ro.code, 0, ro.stderr);
    for (
      const [setting, path] of [
        ["stats_file", "/tmp/sqm-autorate.csv"],
        ["speedhist_file", "/tmp/sqm-speedhist.csv"],
      ]
    ) {
      assert(
        ro.stderr.includes(
          `warning: ${setting} "${path}" cannot be written here: cannot make it: Read-only file system`,
        ),
        ro.stderr,
      );
    }
    const rw = await checkWithTmp("rw");
    assertEquals(rw.code, 0, rw.stderr);
    assert(!rw.stderr.includes("cannot be written"), rw.stderr);
    // `ls -A /tmp` after it: the files it made to try were removed.
    const after = rw.stderr.slice(rw.stderr.indexOf("configuration OK") + 17).trim();
    assertEquals(after, "", rw.stderr);
  },
);
