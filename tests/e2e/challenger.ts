/**
 * The controller the e2e comparisons set against EWMA when none is named: the default, or
 * `capacity` while EWMA is itself the default (EWMA against EWMA would compare nothing;
 * docs/e2e.md, "Scenarios").
 */
export function challenger(defaultController: string): string {
  return defaultController === "ewma" ? "capacity" : "default";
}
