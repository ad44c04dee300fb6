/**
 * Running aarch64 Linux programs on an x86_64 machine with Debian's qemu-user: the emulator and
 * the aarch64 C library and libgcc (the Deno executable links glibc and libgcc_s), installed with
 * apt-get when missing. Child processes the emulated program spawns (tc, ip, fping) are host
 * executables and run natively. See docs/install.md ("What is proven where").
 */
import { denoCommandRunner } from "../../src/util/command.ts";

/** Debian packages that provide the emulator and the aarch64 runtime libraries. */
export const DEBIAN_PACKAGES: readonly string[] = [
  "qemu-user",
  "libc6-arm64-cross",
  "libgcc-s1-arm64-cross",
];

/** Where the cross packages put the aarch64 libraries (qemu's `-L` prefix). */
export const SYSROOT = "/usr/aarch64-linux-gnu";

/** Files the emulated Deno needs besides the emulator. */
const LIBS = [`${SYSROOT}/lib/ld-linux-aarch64.so.1`, `${SYSROOT}/lib/libgcc_s.so.1`];

const run = denoCommandRunner({ timeoutMs: 600_000 });

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The first of `names` found in PATH, or undefined. */
function inPath(names: readonly string[]): string | undefined {
  const dirs = (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":").filter((d) => d !== "");
  for (const name of names) {
    for (const dir of dirs) {
      if (isFile(`${dir}/${name}`)) return `${dir}/${name}`;
    }
  }
  return undefined;
}

/** The emulator (qemu-user or qemu-user-static) when it and the libraries are installed. */
function installedEmulator(): string | undefined {
  const qemu = inPath(["qemu-aarch64", "qemu-aarch64-static"]);
  return qemu !== undefined && LIBS.every(isFile) ? qemu : undefined;
}

/** How to start an aarch64 program here, or why it cannot be done. */
export type Aarch64Launcher =
  | { readonly prefix: readonly string[]; readonly skip?: undefined }
  | { readonly skip: string };

/**
 * The command prefix that runs an aarch64 executable: nothing on an aarch64 machine, else
 * `qemu-aarch64 -L /usr/aarch64-linux-gnu`, installing {@linkcode DEBIAN_PACKAGES} first when
 * they are missing and this process is root. `skip` says why it is impossible.
 */
export async function aarch64Launcher(): Promise<Aarch64Launcher> {
  if (Deno.build.os !== "linux") return { skip: `not Linux (${Deno.build.os})` };
  if (Deno.build.arch === "aarch64") return { prefix: [] };
  let qemu = installedEmulator();
  if (qemu === undefined) {
    if (Deno.uid() !== 0) {
      return { skip: `qemu-user is not installed and only root can install it` };
    }
    const apt = (args: string[]) =>
      run("env", ["DEBIAN_FRONTEND=noninteractive", "apt-get", ...args]);
    const update = await apt(["update", "-qq"]);
    const install = await apt([
      "install",
      "-y",
      "-qq",
      "--no-install-recommends",
      ...DEBIAN_PACKAGES,
    ]);
    qemu = installedEmulator();
    if (qemu === undefined) {
      const why = [update, install].map((r) => r.stderr.trim()).filter((s) => s !== "").join("; ");
      return { skip: `apt-get could not install ${DEBIAN_PACKAGES.join(" ")}: ${why}` };
    }
  }
  return { prefix: [qemu, "-L", SYSROOT] };
}
