/**
 * An interface's link kind as `ip -d -j link show dev NAME` reports it (`linkinfo.info_kind`:
 * "ifb", "veth", …), read once at start-up to tell whether the download shaper sits on an IFB
 * (docs/controllers.md, "Shapers without flow isolation").
 */
import { type CommandRunner, defaultCommandRunner } from "../util/command.ts";
import { jsonList } from "../util/json_list.ts";

/** Reads the link kind of one interface; undefined when it cannot be read. */
export type LinkKindReader = (ifname: string) => Promise<string | undefined>;

/**
 * The link kind of `ifname`: its `info_kind`, "" for a device without one (a physical NIC),
 * undefined when `ip` fails or prints no JSON (BusyBox `ip` has no `-j`).
 */
export async function readLinkKind(
  ifname: string,
  o: { runner?: CommandRunner; ipPath?: string; netns?: string } = {},
): Promise<string | undefined> {
  const ns = o.netns === undefined ? [] : ["-n", o.netns];
  const r = await (o.runner ?? defaultCommandRunner)(
    o.ipPath ?? "ip",
    [...ns, "-d", "-j", "link", "show", "dev", ifname],
  );
  if (r.code !== 0) return undefined;
  const link = jsonList(r.stdout)?.[0] as Record<string, unknown> | undefined;
  if (typeof link !== "object" || link === null || link.ifname !== ifname) return undefined;
  const kind = (link.linkinfo as { info_kind?: unknown } | undefined)?.info_kind;
  return typeof kind === "string" ? kind : "";
}
