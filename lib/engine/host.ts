import { EventEmitter } from 'node:events';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EngineAbortedError, EngineClosedError, EngineCrashedError, EngineError } from './errors';
import type { HostToWorker, WorkerToHost } from './messages';

export interface EngineHostOptions {
  /** Absolute path of the engine module (exports createEngine). */
  modulePath: string;
  /** Passed to createEngine inside the worker (must be structured-cloneable). */
  options?: unknown;
  /** Used in error messages and logs, e.g. "asr". */
  name?: string;
  /** Waits before each restart after a crash; the last one repeats. */
  restartDelaysMs?: number[];
  /** Crashes within `crashWindowMs` after which the host gives up. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** How long close() waits for a clean exit before terminating the thread. */
  closeTimeoutMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  onChunk?: (chunk: unknown) => void;
  transfer?: Transferable[];
}

export type EngineState = 'starting' | 'ready' | 'restarting' | 'failed' | 'closed';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onChunk?: (chunk: unknown) => void;
  cleanup: () => void;
}

// Same extension as this file: .js once compiled, .ts when run from source under tsx.
const WORKER_MAIN = join(__dirname, `worker-main${extname(__filename)}`);

/** Worker threads do not inherit tsx's hooks, so a source checkout loads them first. */
function startWorker(workerData: unknown): Worker {
  if (extname(WORKER_MAIN) !== '.ts') return new Worker(WORKER_MAIN, { workerData });
  const code = `require('tsx/cjs'); require(${JSON.stringify(WORKER_MAIN)});`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * Runs a blocking native engine (sherpa-onnx, onnxruntime) in a worker thread
 * so that Node-RED's event loop never waits for inference.
 *
 * Events: 'ready' (info), 'crash' (error), 'restart' (attempt), 'failed' (error).
 */
export class EngineHost extends EventEmitter {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stateValue: EngineState = 'starting';
  private readyPromise: Promise<unknown> | undefined;
  private crashTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly name: string;
  /** What the engine reported once loaded. */
  info: unknown;

  constructor(private readonly opts: EngineHostOptions) {
    super();
    this.name = opts.name ?? 'engine';
  }

  get state(): EngineState {
    return this.stateValue;
  }

  /** Starts the worker; resolves once the engine is loaded, rejects if it cannot load. */
  start(): Promise<unknown> {
    if (!this.readyPromise) this.readyPromise = this.spawn();
    return this.readyPromise;
  }

  private spawn(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const worker = startWorker({ modulePath: this.opts.modulePath, options: this.opts.options });
      this.worker = worker;
      let loaded = false;
      worker.on('message', (m: WorkerToHost) => {
        if (m.kind === 'ready') {
          loaded = true;
          this.info = m.info;
          this.stateValue = 'ready';
          this.emit('ready', m.info);
          resolve(m.info);
        } else if (m.kind === 'init-error') {
          // A model that cannot load is a configuration problem: restarting would not help.
          this.stateValue = 'failed';
          reject(EngineError.from(m.error, this.name));
        } else {
          this.route(m);
        }
      });
      worker.on('error', (err) => {
        if (!loaded) {
          this.stateValue = 'failed';
          reject(new EngineCrashedError(`${this.name}: worker failed while loading: ${err.message}`));
          return;
        }
        this.onCrash(new EngineCrashedError(`${this.name}: engine crashed: ${err.message}`));
      });
      worker.on('exit', (code) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        if (this.stateValue === 'closed' || this.stateValue === 'failed') return;
        if (!loaded) {
          this.stateValue = 'failed';
          reject(new EngineCrashedError(`${this.name}: worker exited with code ${code} while loading`));
          return;
        }
        this.onCrash(new EngineCrashedError(`${this.name}: engine exited unexpectedly (code ${code})`));
      });
    });
  }

  private route(m: Exclude<WorkerToHost, { kind: 'ready' | 'init-error' }>): void {
    const p = this.pending.get(m.id);
    // A cancelled request's late output is dropped here: nothing stale leaves the host.
    if (!p) return;
    if (m.kind === 'chunk') {
      p.onChunk?.(m.data);
      return;
    }
    this.pending.delete(m.id);
    p.cleanup();
    if (m.kind === 'result') p.resolve(m.data);
    else p.reject(EngineError.from(m.error, this.name));
  }

  private onCrash(err: EngineCrashedError): void {
    if (this.stateValue === 'restarting' || this.stateValue === 'closed' || this.stateValue === 'failed') return;
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.rejectAll(err);
    this.emit('crash', err);
    const now = Date.now();
    const windowMs = this.opts.crashWindowMs ?? 60_000;
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < windowMs), now];
    if (this.crashTimes.length > (this.opts.maxCrashes ?? 5)) {
      this.stateValue = 'failed';
      this.readyPromise = Promise.reject(err);
      this.readyPromise.catch(() => undefined);
      this.emit('failed', err);
      return;
    }
    this.stateValue = 'restarting';
    const delays = this.opts.restartDelaysMs ?? [100, 500, 2000, 5000];
    const delay = delays[Math.min(this.crashTimes.length - 1, delays.length - 1)];
    this.readyPromise = new Promise((resolve, reject) => {
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.emit('restart', this.crashTimes.length);
        this.spawn().then(resolve, reject);
      }, delay);
    });
    this.readyPromise.catch(() => undefined);
  }

  /**
   * Sends one request. Chunks the engine emits go to onChunk; the promise
   * settles with the engine's result. Aborting the signal rejects at once and
   * drops anything the worker still sends for this request.
   */
  async call<T = unknown>(method: string, payload?: unknown, options: CallOptions = {}): Promise<T> {
    if (this.stateValue === 'closed') throw new EngineClosedError(this.name);
    await this.start();
    const worker = this.worker;
    if (!worker || this.stateValue !== 'ready') throw new EngineClosedError(this.name);
    const { signal, onChunk, transfer } = options;
    if (signal?.aborted) throw new EngineAbortedError(this.name);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.delete(id)) return;
        this.post({ kind: 'cancel', id });
        reject(new EngineAbortedError(this.name));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        onChunk,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      this.post({ kind: 'call', id, method, payload }, transfer);
    });
  }

  private post(m: HostToWorker, transfer?: Transferable[]): void {
    this.worker?.postMessage(m, transfer as never);
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) {
      p.cleanup();
      p.reject(err);
    }
    this.pending.clear();
  }

  /** Stops the worker: in-flight requests are rejected, native memory freed. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    clearTimeout(this.restartTimer);
    this.rejectAll(new EngineClosedError(this.name));
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ kind: 'shutdown' } satisfies HostToWorker);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.opts.closeTimeoutMs ?? 2000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') await worker.terminate();
  }
}
