/**
 * For remote-mode tests against a real SSH server: two throw-away network namespaces, the
 * "router" (OpenSSH's sshd, or dropbear with a BusyBox userland as stock OpenWrt has it, with
 * throw-away keys; a veth pair `vdl`/`vul` with root TBFs) and the "client" the daemon's ssh runs
 * in, joined by a management veth link that a test can cut. The daemon runs in this process; its
 * ssh is a wrapper that enters the client namespace.
 */
import type { TableSettings } from "../config/settings_table.ts";
import { must, sh, withNetns } from "../util/netns_testing.ts";
import { knownHostsLine, sshdConfig, sshdPath } from "../util/sshd_testing.ts";
import {
  buildDropbearRouter,
  type DropbearRouter,
  dropbearSkipReason,
} from "../util/dropbear_testing.ts";
import type { TickEvent } from "../control/ports.ts";
import { type DaemonNetns, withDaemonNetns } from "./netns_fixture.ts";

/** The router's and the client's addresses on the management link. */
export const SSH_ROUTER_ADDR = { router: "10.77.0.1", client: "10.77.0.2" } as const;

/** Why these tests cannot run here (no sshd, ssh or ssh-keygen), or undefined. */
export async function sshdSkipReason(): Promise<string | undefined> {
  if (sshdPath === undefined) return "OpenSSH server (sshd) not installed";
  if (!(await sh("ssh", ["-V"])).ok) return "OpenSSH client (ssh) not installed";
  return undefined;
}

/**
 * Why the dropbear tests cannot run here (no dropbear, busybox or OpenSSH client), or undefined.
 */
export async function dropbearRouterSkipReason(): Promise<string | undefined> {
  const reason = dropbearSkipReason();
  if (reason !== undefined) return reason;
  if (!(await sh("ssh", ["-V"])).ok) return "OpenSSH client (ssh) not installed";
  return undefined;
}

/** What a remote-mode test gets. */
export interface SshRouterNetns {
  /** The router side: its namespace is `d.ns`; `d.settings` are remote ones. */
  d: DaemonNetns;
  /** The client namespace (where the daemon's ssh runs). */
  client: string;
  /** The ssh the daemon must use (a wrapper entering the client namespace). */
  sshPath: string;
  /**
   * The directory of sshd's `hostkey` and `authorized_keys` and the daemon's `known_hosts`: a
   * test changes them and restarts sshd (a router's host key changed, the key no longer there).
   */
  keysDir: string;
  /** The router's authorized keys file (sshd's `KEYSDIR/authorized_keys`, dropbear's root's). */
  authorizedKeys: string;
  /** The dropbear router (host key, log), when the server is dropbear. */
  dropbear?: DropbearRouter;
  /** Starts the SSH server in the router namespace and waits until it listens. */
  startSshd(): Promise<void>;
  /** Kills every process of the SSH server (listener and sessions); returns how many. */
  killSshd(): Promise<number>;
  /** The server's log so far (a line `Accepted publickey …` or `Pubkey auth succeeded …` each). */
  sshdLog(): Promise<string>;
  /** Processes in the router namespace: pid and command name. */
  routerProcesses(): Promise<{ pid: number; comm: string; state: string }[]>;
  /**
   * Cuts the management link (`down`: the client's end down; `drop`: frames silently lost both
   * ways) or restores it (`up`, `pass`).
   */
  link(how: "down" | "up" | "drop" | "pass"): Promise<void>;
}

/** Sets up both namespaces, keys, sshd and the wrapper, runs `fn`, and removes it all. */
export function withSshRouterNetns<T>(
  prefix: string,
  overrides: Partial<TableSettings>,
  fn: (r: SshRouterNetns) => Promise<T>,
): Promise<T> {
  return withRouterNetns(prefix, { overrides, server: "sshd" }, fn);
}

/**
 * As {@linkcode withSshRouterNetns}, the router running dropbear with BusyBox as its shell and
 * commands and iproute2's tc, as stock OpenWrt (src/util/dropbear_testing.ts).
 */
export function withDropbearRouterNetns<T>(
  prefix: string,
  overrides: Partial<TableSettings>,
  fn: (r: SshRouterNetns) => Promise<T>,
): Promise<T> {
  return withRouterNetns(prefix, { overrides, server: "dropbear" }, fn);
}

function withRouterNetns<T>(
  prefix: string,
  o: { overrides: Partial<TableSettings>; server: "sshd" | "dropbear" },
  fn: (r: SshRouterNetns) => Promise<T>,
): Promise<T> {
  const overrides = o.overrides;
  return withNetns(`${prefix}-r`, (routerNs) =>
    withNetns(`${prefix}-c`, async (client) => {
      const dir = await Deno.makeTempDir({ prefix: "sqma-sshr-" });
      try {
        await must("ip", [
          ...["-n", routerNs, "link", "add", "mgmt0", "type", "veth"],
          ...["peer", "name", "mgmt1", "netns", client],
        ]);
        await must("ip", [
          "-n",
          routerNs,
          "addr",
          "add",
          `${SSH_ROUTER_ADDR.router}/30`,
          "dev",
          "mgmt0",
        ]);
        await must("ip", [
          "-n",
          client,
          "addr",
          "add",
          `${SSH_ROUTER_ADDR.client}/30`,
          "dev",
          "mgmt1",
        ]);
        await must("ip", ["-n", routerNs, "link", "set", "mgmt0", "up"]);
        await must("ip", ["-n", client, "link", "set", "mgmt1", "up"]);
        const dropbear = o.server === "dropbear" ? await buildDropbearRouter(dir) : undefined;
        const files = await sshFiles(dir, dropbear);
        const sshPath = `${dir}/ssh`;
        await Deno.writeTextFile(sshPath, `#!/bin/sh\nexec ip netns exec ${client} ssh "$@"\n`);
        await Deno.chmod(sshPath, 0o755);
        const processes = async () => {
          const pids = (await sh("ip", ["netns", "pids", routerNs])).out.split(/\s+/)
            .filter((p) => p !== "");
          const out: { pid: number; comm: string; state: string }[] = [];
          for (const pid of pids) {
            const stat = await sh("ps", ["-o", "stat=,comm=", "-p", pid]);
            if (!stat.ok) continue;
            const [state, comm] = stat.out.trim().split(/\s+/);
            out.push({ pid: Number(pid), comm, state: state[0] });
          }
          return out;
        };
        const killAll = async (which: (comm: string) => boolean) => {
          let killed = 0;
          for (const p of await processes()) {
            if (!which(p.comm)) continue;
            await sh("kill", ["-KILL", String(p.pid)]);
            killed++;
          }
          return killed;
        };
        const listening = async () => {
          for (let i = 0; i < 50; i++) {
            const ss = await sh("ip", ["netns", "exec", routerNs, "ss", "-ltn", "sport = :22"]);
            if (ss.out.includes(":22")) return;
            await new Promise((res) => setTimeout(res, 100));
          }
          const log = await Deno.readTextFile(dropbear?.log ?? `${dir}/sshd.log`).catch(() => "");
          throw new Error(`${o.server} did not listen: ${log}`);
        };
        const r: SshRouterNetns = {
          d: undefined as unknown as DaemonNetns,
          client,
          sshPath,
          keysDir: dir,
          authorizedKeys: dropbear?.authorizedKeys ?? `${dir}/authorized_keys`,
          dropbear,
          startSshd: async () => {
            if (dropbear !== undefined) {
              // In the background: dropbear -F stays in the foreground, its log in the file.
              await must("sh", [
                "-c",
                `${
                  dropbear.argv(routerNs, SSH_ROUTER_ADDR.router)
                    .map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ")
                } </dev/null >/dev/null 2>&1 &`,
              ]);
              await listening();
              return;
            }
            await Deno.mkdir("/run/sshd", { recursive: true }); // privilege separation directory
            await must("ip", [
              ...["netns", "exec", routerNs, sshdPath!],
              ...["-f", `${dir}/sshd_config`, "-E", `${dir}/sshd.log`],
            ]);
            await listening();
          },
          killSshd: () =>
            killAll((comm) => dropbear ? comm === "dropbear" : comm.startsWith("sshd")),
          sshdLog: () => Deno.readTextFile(dropbear?.log ?? `${dir}/sshd.log`),
          routerProcesses: processes,
          link: async (how) => {
            if (how === "down" || how === "up") {
              await must("ip", ["-n", client, "link", "set", "mgmt1", how]);
            } else {
              // Frames to a MAC that is not the peer's: it drops them, nothing says why.
              for (
                const [ns, dev, to] of [
                  [client, "mgmt1", SSH_ROUTER_ADDR.router],
                  [routerNs, "mgmt0", SSH_ROUTER_ADDR.client],
                ]
              ) {
                await must("ip", [
                  ...["-n", ns, "neigh", how === "drop" ? "replace" : "del", to],
                  ...(how === "drop" ? ["lladdr", "02:00:00:00:00:01", "nud", "permanent"] : []),
                  ...["dev", dev],
                ]);
              }
            }
          },
        };
        await r.startSshd();
        try {
          return await withDaemonNetns(routerNs, {
            remote: `root@${SSH_ROUTER_ADDR.router}`,
            remote_port: 22,
            remote_identity: files.identity,
            remote_known_hosts: files.knownHosts,
            ...overrides,
          }, (d) => fn({ ...r, d }));
        } finally {
          // Processes outlive their namespace's name: end every one of both.
          await killAll(() => true);
          for (const p of (await sh("ip", ["netns", "pids", client])).out.split(/\s+/)) {
            if (p !== "") await sh("kill", ["-KILL", p]);
          }
        }
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }));
}

/**
 * Throw-away host and user keys, known_hosts and the sshd config in `dir`; with `dropbear`, its
 * host key and root's authorized keys instead.
 */
async function sshFiles(
  dir: string,
  dropbear: DropbearRouter | undefined,
): Promise<{ identity: string; knownHosts: string }> {
  for (const k of ["host", "user"]) {
    await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${dir}/${k}key`]);
  }
  await Deno.copyFile(`${dir}/userkey.pub`, dropbear?.authorizedKeys ?? `${dir}/authorized_keys`);
  const hostKey = dropbear?.hostPublicKey ?? await Deno.readTextFile(`${dir}/hostkey.pub`);
  await Deno.writeTextFile(`${dir}/known_hosts`, knownHostsLine(SSH_ROUTER_ADDR.router, hostKey));
  await Deno.writeTextFile(
    `${dir}/sshd_config`,
    sshdConfig(dir, { listen: SSH_ROUTER_ADDR.router, port: 22 }),
  );
  return { identity: `${dir}/userkey`, knownHosts: `${dir}/known_hosts` };
}

/** The router's adapters a flipping daemon uses (as `createRemoteAdapters` returns them). */
type RouterAdapters = Pick<
  Parameters<DaemonNetns["start"]>[0] & object,
  "shapers" | "counters" | "linkKind"
>;

/**
 * Starts the daemon against the router with an adjuster that moves both rates every tick
 * (download 20000/20001, upload 8000/8001 in turn; `held()`, when it returns rates, instead),
 * so tc is asked for both changes each tick, the longest tick there is; its ticks go to `ticks`.
 */
export function startFlippingDaemon(
  r: SshRouterNetns,
  adapters: RouterAdapters,
  options: { ticks: TickEvent[]; held?: () => { dl: number; ul: number } | undefined },
): ReturnType<DaemonNetns["start"]> {
  let flip = 0;
  return r.d.start({
    shapers: adapters.shapers,
    counters: adapters.counters,
    linkKind: adapters.linkKind,
    adjusters: [{
      name: "flip",
      adjust: () => {
        flip ^= 1;
        const held = options.held?.();
        return { next_dl_rate: held?.dl ?? 20000 + flip, next_ul_rate: held?.ul ?? 8000 + flip };
      },
    }],
    observers: [{ onTick: (e) => void options.ticks.push(e) }],
  });
}

/** The UCI `config remote` section of the daemon run against the router (its settings). */
export function remoteUciSection(
  settings: Pick<DaemonNetns["settings"], "remote" | "remote_identity" | "remote_known_hosts">,
): string {
  return [
    "config remote",
    `\toption host '${settings.remote}'`,
    `\toption identity_file '${settings.remote_identity}'`,
    `\toption known_hosts_file '${settings.remote_known_hosts}'`,
  ].join("\n");
}
