import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';
import { Status } from './status';

export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;
export type InputHandler = (msg: NodeMessageInFlow, send: Send) => void | Promise<void>;

/**
 * Registers an input handler that may be async and may throw. Node-RED only
 * catches synchronous throws; an async rejection would be lost, so every
 * failure is routed to done(err): the runtime then calls node.error(err, msg)
 * and Catch nodes see it. The status turns red with the error's short text.
 */
export function onInput(node: Node, handler: InputHandler): void {
  node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
    const fail = (err: unknown): void => {
      const error = err instanceof Error ? err : new Error(String(err));
      node.status(Status.failed(shortReason(error)));
      done(error);
    };
    try {
      const result = handler(msg, send);
      if (result instanceof Promise) result.then(() => done(), fail);
      else done();
    } catch (err) {
      fail(err);
    }
  });
}

/**
 * What the status line says about an error: its own `statusText` when it has
 * one (e.g. "server down"), else the first clause of its message (an engine
 * error's own message, not the engine's name in front of it).
 */
export function shortReason(err: Error): string {
  const { statusText, reason } = err as { statusText?: unknown; reason?: unknown };
  if (typeof statusText === 'string' && statusText) return statusText;
  const message = typeof reason === 'string' ? reason : err.message;
  return message.split(/[:;(]/)[0].trim() || err.name;
}

/**
 * Registers a close handler that always calls done, even when the cleanup
 * fails or hangs (Node-RED waits up to 15 s per node on redeploy otherwise).
 */
export function onClose(node: Node, cleanup: (removed: boolean) => Promise<void> | void, timeoutMs = 5000): void {
  node.on('close', (removed: boolean, done: () => void) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      node.status(Status.clear());
      done();
    };
    const timer = setTimeout(() => {
      node.warn(`cleanup took more than ${timeoutMs} ms; closing anyway`);
      finish();
    }, timeoutMs);
    Promise.resolve()
      .then(() => cleanup(removed))
      .catch((err: unknown) => node.error(err))
      .finally(finish);
  });
}
