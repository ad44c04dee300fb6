/** `HOST:PORT` listen addresses (`metrics_listen`), IPv6 hosts in brackets (`[::1]:9101`). */

/** A parsed listen address. */
export interface ListenAddress {
  /** Host as `Deno.serve` takes it (IPv6 without brackets). */
  hostname: string;
  /** TCP port, 1–65535. */
  port: number;
  /** The canonical `HOST:PORT` spelling (IPv6 in brackets), as Deno's net permission names it. */
  text: string;
}

/** Parses `HOST:PORT`; throws an Error that says what is wrong. */
export function parseListenAddress(value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]\s]+)):(\d{1,5})$/.exec(value.trim());
  if (m === null) {
    throw new Error(`"${value}" is not HOST:PORT (e.g. 127.0.0.1:9101 or [::1]:9101)`);
  }
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`"${value}": port ${port} is not 1-65535`);
  const hostname = m[1] ?? m[2];
  return {
    hostname,
    port,
    text: m[1] !== undefined ? `[${hostname}]:${port}` : `${hostname}:${port}`,
  };
}
