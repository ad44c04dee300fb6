/**
 * Whether the router answers, as its counter session sees it: while that session is down, the
 * shaper changes are not tried (no `tc -batch` session, no `ssh … tc`) and its redials, with
 * their growing delay, are the only attempts; when it answers again the changes are made at once
 * (docs/operation.md, "A router that stays away").
 */
export class RouterLink {
  #answers = true;
  readonly #onBack: (() => void)[] = [];

  /** False from a failed reading of the counter session until its next answer. */
  get answers(): boolean {
    return this.#answers;
  }

  /** The counter session got no answer (or ended): the router is taken to be away. */
  lost(): void {
    this.#answers = false;
  }

  /** The counter session answered: calls the `onBack` listeners when the router was away. */
  answered(): void {
    if (this.#answers) return;
    this.#answers = true;
    for (const fn of this.#onBack) fn();
  }

  /** Calls `fn` each time the router answers again after being away. */
  onBack(fn: () => void): void {
    this.#onBack.push(fn);
  }
}
