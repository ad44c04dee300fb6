/**
 * Upload and download interfaces that look swapped (`--ul ifb4wan --dl wan`): an IFB named as the
 * upload interface and a device that is not one as the download. An IFB carries what arrives
 * (sqm-scripts redirects ingress to it), so the daemon would shape the download at the upload
 * rates. Told by the link kinds `ip` reports (src/apply/link_kind.ts); the one definition that
 * `check-config` (src/apply/shaper_check.ts) and the daemon's start (src/daemon/mod.ts) word in
 * their own consequence (docs/operation.md, "Swapped interfaces").
 */

/** The two interfaces and their link kinds (undefined: not read). */
export interface InterfaceKinds {
  /** `download_interface`. */
  readonly dl_if: string;
  /** `upload_interface`. */
  readonly ul_if: string;
  /** The download interface's link kind. */
  readonly dlKind: string | undefined;
  /** The upload interface's link kind. */
  readonly ulKind: string | undefined;
}

/**
 * Why the two settings look swapped, without the consequence; undefined when they do not, or
 * when either kind could not be read.
 */
export function swappedInterfaces(k: InterfaceKinds): string | undefined {
  if (k.ulKind !== "ifb" || k.dlKind === undefined || k.dlKind === "ifb") return undefined;
  return `ul_if "${k.ul_if}" is an IFB and dl_if "${k.dl_if}" is not: an IFB carries what ` +
    "arrives (the download), so upload_interface and download_interface look swapped";
}
