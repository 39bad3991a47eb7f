import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EngineBoot } from './messages';
import type { EngineTransport } from './transport';

// Same extension as this file: .js once compiled, .ts when run from source under tsx.
export const WORKER_MAIN = join(__dirname, `worker-main${extname(__filename)}`);

/**
 * An engine's JS heap is tiny, so V8 would collect its young objects only
 * every few minutes, and with them the native buffers sherpa-onnx hands back
 * (speech segments): ~10 MB more per minute of audio until a collection. A
 * small young generation collects them within seconds (the engine's RSS
 * stays flat), at a cost of well under a millisecond a second.
 */
export const YOUNG_GENERATION_MB = 3;

/** Worker threads do not inherit tsx's hooks, so a source checkout loads them first. */
function startWorker(boot: EngineBoot): Worker {
  const resourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
  if (extname(WORKER_MAIN) !== '.ts') return new Worker(WORKER_MAIN, { workerData: boot, resourceLimits });
  const code = `require('tsx/cjs'); require(${JSON.stringify(WORKER_MAIN)});`;
  return new Worker(code, { eval: true, workerData: boot, resourceLimits });
}

/** The engine in a worker thread: audio buffers are transferred, not copied. */
export function threadTransport(boot: EngineBoot): EngineTransport {
  const worker = startWorker(boot);
  return {
    send: (m, transfer) => worker.postMessage(m, transfer as never),
    onMessage: (listener) => worker.on('message', listener),
    onError: (listener) => worker.on('error', listener),
    onExit: (listener) => worker.once('exit', (code) => listener(`code ${code}`)),
    kill: () => void worker.terminate(),
    // A thread shares the process's stderr: a native abort takes the process with it anyway.
    lastWords: () => '',
  };
}
