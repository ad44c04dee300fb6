/**
 * A router reachable over SSH inside the e2e testbed (remote mode, docs/remote.md): a real OpenSSH
 * server in the router namespace with throw-away keys, on a client–router link of its own. Used by
 * tests/e2e/remote_test.ts and bench/remote.ts.
 */
import { mustSync, runSync, sleep } from "./cmd.ts";
import type { Testbed } from "./testbed.ts";
import { knownHostsLine, sshdConfig, sshdPath } from "../../src/util/sshd_testing.ts";

/** Port of the test sshd. */
export const SSH_PORT = 2222;
/**
 * The router's address on a separate, unshaped client–router link. On a real router download is
 * shaped on the WAN's ingress (ifb), so LAN–router traffic such as the daemon's ssh sessions never
 * queues behind the load; the testbed shapes download on the router's LAN egress instead, so the
 * ssh sessions get a link of their own here, as they would have on a real router.
 */
export const MGMT = { router: "10.213.9.1", client: "10.213.9.2" } as const;

/** Why an SSH router cannot be set up here (no sshd or ssh), or undefined. */
export function sshUnavailableReason(): string | undefined {
  if (sshdPath === undefined) return "OpenSSH server (sshd) not installed";
  if (runSync(["ssh", "-V"]).code !== 0) return "OpenSSH client (ssh) not installed";
  return undefined;
}

/** Files of an SSH router: the client's key and known-hosts files (right and wrong). */
export interface SshRouterFiles {
  /** known_hosts with the router's real host key. */
  knownHosts: string;
  /** known_hosts with another key for the router's address. */
  wrongKnownHosts: string;
  /** The client's private key. */
  identity: string;
}

/**
 * Sets up the management link, throw-away keys and sshd config in `dir`, and starts sshd in the
 * router namespace.
 */
export async function startSshRouter(tb: Testbed, dir: string): Promise<SshRouterFiles> {
  const files = sshFiles(dir);
  addManagementLink(tb);
  await startSshd(tb, dir);
  return files;
}

/** Throw-away keys, sshd config and known_hosts files in `dir`. */
function sshFiles(dir: string): SshRouterFiles {
  for (const k of ["host", "user", "other"]) {
    mustSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${dir}/${k}key`]);
  }
  Deno.copyFileSync(`${dir}/userkey.pub`, `${dir}/authorized_keys`);
  const known = (k: string) =>
    knownHostsLine(`[${MGMT.router}]:${SSH_PORT}`, Deno.readTextFileSync(`${dir}/${k}key.pub`));
  Deno.writeTextFileSync(`${dir}/known_hosts`, known("host"));
  Deno.writeTextFileSync(`${dir}/wrong_known_hosts`, known("other"));
  Deno.writeTextFileSync(
    `${dir}/sshd_config`,
    sshdConfig(dir, { listen: MGMT.router, port: SSH_PORT }),
  );
  return {
    knownHosts: `${dir}/known_hosts`,
    wrongKnownHosts: `${dir}/wrong_known_hosts`,
    identity: `${dir}/userkey`,
  };
}

/** Adds the unshaped management link between the client and router namespaces. */
function addManagementLink(tb: Testbed): void {
  mustSync([
    "ip",
    "-n",
    tb.ns.router,
    "link",
    "add",
    "mgmt0",
    "type",
    "veth",
    "peer",
    "name",
    "mgmt1",
    "netns",
    tb.ns.client,
  ]);
  mustSync(["ip", "-n", tb.ns.router, "addr", "add", `${MGMT.router}/30`, "dev", "mgmt0"]);
  mustSync(["ip", "-n", tb.ns.client, "addr", "add", `${MGMT.client}/30`, "dev", "mgmt1"]);
  mustSync(["ip", "-n", tb.ns.router, "link", "set", "mgmt0", "up"]);
  mustSync(["ip", "-n", tb.ns.client, "link", "set", "mgmt1", "up"]);
}

/** Starts sshd in the router namespace (it daemonises) and waits until it listens. */
export async function startSshd(tb: Testbed, dir: string): Promise<void> {
  Deno.mkdirSync("/run/sshd", { recursive: true }); // privilege separation directory
  mustSync(tb.exec(tb.ns.router, [sshdPath!, "-f", `${dir}/sshd_config`, "-E", `${dir}/sshd.log`]));
  for (let i = 0; i < 50; i++) {
    const r = runSync(tb.exec(tb.ns.router, ["ss", "-ltn", `sport = :${SSH_PORT}`]));
    if (r.stdout.includes(`:${SSH_PORT}`)) return;
    await sleep(100);
  }
  throw new Error(`sshd did not listen: ${Deno.readTextFileSync(`${dir}/sshd.log`)}`);
}

/** Kills every sshd of the router namespace (the listener and the daemon's sessions). */
export function killSshd(tb: Testbed): number {
  let killed = 0;
  const pids = runSync(["ip", "netns", "pids", tb.ns.router]).stdout.split(/\s+/).filter((p) => p);
  for (const pid of pids) {
    // Deno reads /proc only with --allow-all; cat can.
    const comm = runSync(["cat", `/proc/${pid}/comm`]).stdout.trim();
    if (comm.startsWith("sshd")) {
      runSync(["kill", "-KILL", pid]);
      killed++;
    }
  }
  return killed;
}
