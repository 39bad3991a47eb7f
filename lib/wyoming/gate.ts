/**
 * One request at a time for a flow node that handles one stream (asr hears one
 * voice, llama-llm answers one question and drops the one before): the others
 * wait in arrival order.
 */
export class Gate<T> {
  private holder: T | undefined;
  private readonly waiting: T[] = [];

  get current(): T | undefined {
    return this.holder;
  }

  /** True when the item may go now; otherwise it waits for its turn. */
  enter(item: T): boolean {
    if (this.holder === undefined) {
      this.holder = item;
      return true;
    }
    this.waiting.push(item);
    return false;
  }

  /** The item leaves (done, or gone while waiting); returns the next holder when the gate changed hands. */
  leave(item: T): T | undefined {
    const at = this.waiting.indexOf(item);
    if (at >= 0) this.waiting.splice(at, 1);
    if (this.holder !== item) return undefined;
    this.holder = this.waiting.shift();
    return this.holder;
  }
}
