import { EventEmitter } from 'node:events';
import { EngineAbortedError, EngineClosedError, EngineCrashedError, EngineError } from './errors';
import type { HostToWorker, WorkerToHost } from './messages';
import { processTransport } from './process-transport';
import { threadTransport } from './thread-transport';
import type { EngineTransport, Isolation } from './transport';

export interface EngineHostOptions {
  /** Absolute path of the engine module (exports createEngine). */
  modulePath: string;
  /** Passed to createEngine inside the worker (must be structured-cloneable). */
  options?: unknown;
  /** Used in error messages and logs, e.g. "asr". */
  name?: string;
  /**
   * Where the engine runs. 'process' (the default) survives a native library
   * that aborts or exits on a bad model, at the cost of a copy per message;
   * 'thread' is for engines that only ever throw.
   */
  isolation?: Isolation;
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

/**
 * Runs a blocking native engine (sherpa-onnx, onnxruntime) in a child process
 * or a worker thread, so that Node-RED's event loop never waits for inference
 * and a crash of the engine costs only its node.
 *
 * Events: 'ready' (info), 'crash' (error), 'restart' (attempt), 'failed' (error).
 */
export class EngineHost extends EventEmitter {
  private worker: EngineTransport | undefined;
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

  /** The process the engine runs in now, when it has its own (for measuring its memory and CPU). */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /** Starts the worker; resolves once the engine is loaded, rejects if it cannot load. */
  start(): Promise<unknown> {
    if (!this.readyPromise) this.readyPromise = this.spawn();
    return this.readyPromise;
  }

  private spawn(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const boot = { modulePath: this.opts.modulePath, options: this.opts.options };
      const worker = (this.opts.isolation ?? 'process') === 'process' ? processTransport(boot) : threadTransport(boot);
      this.worker = worker;
      let loaded = false;
      const failLoading = (err: Error): void => {
        this.stateValue = 'failed';
        reject(err);
      };
      worker.onMessage((m: WorkerToHost) => {
        if (m.kind === 'ready') {
          loaded = true;
          this.info = m.info;
          this.stateValue = 'ready';
          this.emit('ready', m.info);
          resolve(m.info);
        } else if (m.kind === 'init-error') {
          // A model that cannot load is a configuration problem: restarting would not help.
          failLoading(EngineError.from(m.error, this.name));
        } else {
          this.route(m);
        }
      });
      worker.onError((err) => {
        if (this.worker !== worker) return;
        if (!loaded) failLoading(new EngineCrashedError(`${this.name}: worker failed while loading: ${err.message}`));
        else this.onCrash(new EngineCrashedError(`${this.name}: engine crashed: ${err.message}`));
      });
      worker.onExit((how) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        if (this.stateValue === 'closed' || this.stateValue === 'failed') return;
        if (!loaded) failLoading(loadCrash(this.name, how, worker.lastWords()));
        else this.onCrash(new EngineCrashedError(`${this.name}: engine exited unexpectedly (${how})${said(worker.lastWords())}`));
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
    worker?.kill();
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
    this.worker?.send(m, transfer);
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
    const exited = new Promise<void>((resolve) => worker.onExit(() => resolve()));
    worker.send({ kind: 'shutdown' });
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.opts.closeTimeoutMs ?? 2000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      worker.kill();
      await exited;
    }
  }
}

/**
 * The last lines a dying engine printed, for an error message (", saying: …"),
 * without the native stack trace Node adds to an abort (numbered frames).
 */
function said(lastWords: string): string {
  const lines = lastWords
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(\d+: |-----|#)/.test(l) && !/^(Native|JavaScript) stack trace/i.test(l))
    .slice(-2);
  return lines.length ? `, saying: ${lines.join(' / ').replace(/\.+$/, '').slice(-400)}` : '';
}

/**
 * An engine that died while loading, without reporting an error: a native
 * library aborted on the model file. Restarting would only crash again.
 */
function loadCrash(name: string, how: string, lastWords: string): EngineError {
  return new EngineError(
    `${name}: the engine died while loading its model (${how})${said(lastWords)}. ` +
      'The model file is damaged or is not the kind this node expects: download it again or choose another file, then deploy',
    'MODEL_UNLOADABLE',
    'bad model file',
  );
}
