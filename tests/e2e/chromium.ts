/**
 * Headless Chromium (Debian's `chromium`) for page tests: DOM dumps and screenshots after the
 * page's scripts ran for a virtual-time budget. Every run gets a fresh profile directory and the
 * flags that keep Chromium from calling home; `prefix` runs it inside a namespace.
 */
import { runAsync } from "./cmd.ts";

/** The browser binary (SQMA_CHROMIUM overrides). */
export const CHROMIUM = Deno.env.get("SQMA_CHROMIUM") ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
];

/** Why Chromium cannot be used here, or undefined. */
export async function chromiumUnavailableReason(): Promise<string | undefined> {
  const r = await runAsync([CHROMIUM, "--version"], { timeoutMs: 30_000 });
  return r.code === 0
    ? undefined
    : `${CHROMIUM} --version failed: ${r.stderr.trim().slice(0, 200)}`;
}

async function runChromium(
  prefix: readonly string[],
  args: readonly string[],
  budgetMs: number,
): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "sqma-chromium-" });
  try {
    const r = await runAsync(
      [
        ...prefix,
        CHROMIUM,
        ...FLAGS,
        `--user-data-dir=${profile}`,
        `--virtual-time-budget=${budgetMs}`,
        ...args,
      ],
      { timeoutMs: 60_000 },
    );
    if (r.code !== 0) throw new Error(`chromium failed (exit ${r.code}): ${r.stderr.slice(-1000)}`);
    return r.stdout;
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** The DOM of `url` after its scripts ran for `budgetMs` of virtual time. */
export function dumpDom(
  prefix: readonly string[],
  url: string,
  o: { budgetMs: number },
): Promise<string> {
  return runChromium(prefix, ["--dump-dom", url], o.budgetMs);
}

/** A PNG screenshot of `url` (1280 × 1000) after `budgetMs` of virtual time. */
export async function screenshot(
  prefix: readonly string[],
  url: string,
  png: string,
  o: { budgetMs: number },
): Promise<void> {
  await runChromium(prefix, [`--screenshot=${png}`, "--window-size=1280,1000", url], o.budgetMs);
}

/** Text content of the element with `id` in a DOM dump (simple markup only). */
export function textOfId(dom: string, id: string): string | undefined {
  const m = new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(dom);
  return m?.[1];
}
