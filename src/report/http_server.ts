/**
 * The observability listener (`metrics_listen`): Prometheus `/metrics`, the live page at `/`
 * with its embedded uPlot, and `/api/live` for the page. Reads the telemetry only; a request
 * never touches the control loop. Errors while serving are answered with 500 and logged once.
 */
import type { Logger } from "../log/logger.ts";
import type { ListenAddress } from "../util/listen_address.ts";
import type { Telemetry } from "./telemetry.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
import { livePageHtml } from "./live_page.ts";
import { UPLOT_CSS, UPLOT_JS } from "./uplot_embedded.ts";

/** A running listener. */
export interface ObservabilityServer {
  /** The address actually bound (port resolved when 0 was asked). */
  readonly hostname: string;
  /** Bound port. */
  readonly port: number;
  /** Stops listening and waits for open requests. */
  shutdown(): Promise<void>;
}

/** Answers one request from the telemetry (exported for tests without a socket). */
export function handleObservabilityRequest(req: Request, telemetry: Telemetry): Response {
  const url = new URL(req.url);
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const noStore = { "cache-control": "no-store" };
  switch (url.pathname) {
    case "/metrics":
      return new Response(renderPrometheus(telemetry.snapshot()), {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE, ...noStore },
      });
    case "/":
      return new Response(livePageHtml(), {
        headers: { "content-type": "text/html; charset=utf-8", ...noStore },
      });
    case "/uplot.js":
      return new Response(UPLOT_JS, {
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "max-age=86400",
        },
      });
    case "/uplot.css":
      return new Response(UPLOT_CSS, {
        headers: { "content-type": "text/css; charset=utf-8", "cache-control": "max-age=86400" },
      });
    case "/api/live": {
      const since = Number(url.searchParams.get("since") ?? "0");
      const body = {
        now: telemetry.now,
        history: telemetry.history(Number.isFinite(since) ? since : 0),
      };
      return new Response(JSON.stringify(body), {
        headers: { "content-type": "application/json", ...noStore },
      });
    }
    default:
      return new Response("not found\n", { status: 404 });
  }
}

/** Starts listening on `address`; resolves once bound (rejects when the address is unusable). */
export function startObservabilityServer(
  address: Pick<ListenAddress, "hostname" | "port">,
  options: { telemetry: Telemetry; logger: Logger },
): Promise<ObservabilityServer> {
  const { telemetry, logger } = options;
  let failedOnce = false;
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: address.hostname,
        port: address.port,
        onListen: (addr) => {
          logger.info("metrics and live page on http://{host}:{port}/", {
            host: addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname,
            port: addr.port,
          });
          resolve({
            hostname: addr.hostname,
            port: addr.port,
            shutdown: () => server.shutdown(),
          });
        },
        onError: (e) => {
          if (!failedOnce) {
            logger.error("observability request failed: {error}", { error: String(e) });
          }
          failedOnce = true;
          return new Response("internal error\n", { status: 500 });
        },
      }, (req) => handleObservabilityRequest(req, telemetry));
    } catch (e) {
      reject(e);
    }
  });
}
