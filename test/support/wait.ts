/** Waiting in tests: for a while, or for a condition with a deadline that names what was awaited. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `what` may be a function: it is then read at the deadline, to tell how things stood when it passed. */
export async function until(check: () => boolean, ms: number, what: string | (() => string)): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(10);
  }
}
