/**
 * Entry point of every engine worker, a thread or a child process: loads the
 * engine module it is told to, then serves calls from the host until told to
 * shut down.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Engine, EngineFactory } from './engine';
import { serializeError, type EngineBoot, type HostToWorker, type WorkerToHost } from './messages';

interface Side {
  boot: Promise<EngineBoot>;
  post(m: WorkerToHost, transfer?: Transferable[]): void;
  onMessage(listener: (m: HostToWorker) => void): void;
  /** After shutdown: let the container end. */
  end(): void;
}

function threadSide(port: NonNullable<typeof parentPort>): Side {
  return {
    boot: Promise.resolve(workerData as EngineBoot),
    post: (m, transfer) => port.postMessage(m, transfer as never),
    onMessage: (listener) => port.on('message', listener),
    end: () => port.close(),
  };
}

function processSide(): Side {
  const send = process.send?.bind(process);
  if (!send) throw new Error('worker-main must run in a worker thread or a forked child process');
  // The host went away (Node-RED killed): nobody is left to serve.
  process.on('disconnect', () => process.exit(0));
  const listeners: ((m: HostToWorker) => void)[] = [];
  const boot = new Promise<EngineBoot>((resolve) => {
    process.on('message', (m: HostToWorker) => {
      if (m.kind === 'boot') resolve(m.boot);
      else for (const l of listeners) l(m);
    });
  });
  // Exiting drops IPC messages still queued: the last one (an init error) must arrive.
  let flushed = Promise.resolve();
  return {
    boot,
    post: (m) => {
      if (!process.connected) return;
      flushed = new Promise((resolve) => send(m, undefined, {}, () => resolve()));
    },
    onMessage: (listener) => listeners.push(listener),
    end: () => void flushed.then(() => process.exit(0)),
  };
}

async function serve(side: Side): Promise<void> {
  const { modulePath, options } = await side.boot;
  let engine: Engine;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(modulePath) as { createEngine?: EngineFactory };
    if (typeof mod.createEngine !== 'function') throw new Error(`${modulePath} does not export createEngine()`);
    engine = await mod.createEngine(options);
  } catch (err) {
    side.post({ kind: 'init-error', error: serializeError(err) });
    side.end();
    return;
  }
  const controllers = new Map<number, AbortController>();
  side.onMessage(async (m) => {
    if (m.kind === 'cancel') {
      controllers.get(m.id)?.abort();
      return;
    }
    if (m.kind === 'shutdown') {
      for (const c of controllers.values()) c.abort();
      await engine.dispose?.();
      side.end();
      return;
    }
    if (m.kind !== 'call') return;
    const controller = new AbortController();
    controllers.set(m.id, controller);
    const ctx = {
      signal: controller.signal,
      emit: (data: unknown, transfer?: Transferable[]) => side.post({ kind: 'chunk', id: m.id, data }, transfer),
    };
    try {
      const data = await engine.handle(m.method, m.payload, ctx);
      side.post({ kind: 'result', id: m.id, data });
    } catch (err) {
      side.post({ kind: 'error', id: m.id, error: serializeError(err) });
    } finally {
      controllers.delete(m.id);
    }
  });
  side.post({ kind: 'ready', info: engine.info ?? null });
}

void serve(parentPort ? threadSide(parentPort) : processSide());
