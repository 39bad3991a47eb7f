import { abortError } from '../../lib/llm/engine';

/**
 * Tool calls sent to the flow and not answered yet, by toolCallId. Each ends
 * exactly once: with the flow's result, with a note that the flow did not
 * answer in time, or rejected when its turn is interrupted (a result that
 * comes after that finds nothing here and is dropped).
 */
export class PendingToolCalls {
  private readonly pending = new Map<string, (result: unknown) => void>();

  /** `timeoutMs` 0 = wait until the flow answers or the turn is interrupted. */
  constructor(private readonly timeoutMs: number) {}

  /** Sends the call with `send` and resolves with its result. */
  ask(id: string, signal: AbortSignal, send: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError());
      let timer: NodeJS.Timeout | undefined;
      const end = (settle: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        settle();
      };
      const onAbort = () => end(() => reject(abortError()));
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.timeoutMs > 0) {
        const seconds = this.timeoutMs / 1000;
        timer = setTimeout(() => end(() => resolve({ error: `the action did not answer within ${seconds} s; it may not have happened` })), this.timeoutMs);
      }
      this.pending.set(id, (result) => end(() => resolve(result)));
      send();
    });
  }

  /** The flow's result; false when no call of that id is waiting (answered, timed out or interrupted). */
  answer(id: string, result: unknown): boolean {
    const settle = this.pending.get(id);
    settle?.(result);
    return settle !== undefined;
  }
}
