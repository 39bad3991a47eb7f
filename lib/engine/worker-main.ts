/**
 * Entry point of every engine worker thread: loads the engine module named in
 * workerData, then serves calls from the host until told to shut down.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineFactory } from './engine';
import { serializeError, type HostToWorker, type WorkerToHost } from './messages';

const port = parentPort;
if (!port) throw new Error('worker-main must run in a worker thread');
const { modulePath, options } = workerData as { modulePath: string; options: unknown };
const post = (m: WorkerToHost, transfer?: Transferable[]): void => port.postMessage(m, transfer as never);

async function main(): Promise<void> {
  let engine;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(modulePath) as { createEngine?: EngineFactory };
    if (typeof mod.createEngine !== 'function') throw new Error(`${modulePath} does not export createEngine()`);
    engine = await mod.createEngine(options);
  } catch (err) {
    post({ kind: 'init-error', error: serializeError(err) });
    port?.close();
    return;
  }
  const controllers = new Map<number, AbortController>();
  port?.on('message', async (m: HostToWorker) => {
    if (m.kind === 'cancel') {
      controllers.get(m.id)?.abort();
      return;
    }
    if (m.kind === 'shutdown') {
      for (const c of controllers.values()) c.abort();
      await engine.dispose?.();
      port.close();
      return;
    }
    const controller = new AbortController();
    controllers.set(m.id, controller);
    const ctx = {
      signal: controller.signal,
      emit: (data: unknown, transfer?: Transferable[]) => post({ kind: 'chunk', id: m.id, data }, transfer),
    };
    try {
      const data = await engine.handle(m.method, m.payload, ctx);
      post({ kind: 'result', id: m.id, data });
    } catch (err) {
      post({ kind: 'error', id: m.id, error: serializeError(err) });
    } finally {
      controllers.delete(m.id);
    }
  });
  post({ kind: 'ready', info: engine.info ?? null });
}

void main();
