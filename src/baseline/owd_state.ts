/** The shared measurement state (its shape is a port of the control core). */
import type { OwdState } from "../control/ports.ts";

/** Creates an empty shared measurement state with the given initial peers. */
export function createOwdState(peers: readonly string[] = []): OwdState {
  return { baseline: new Map(), recent: new Map(), latest: new Map(), peers };
}
