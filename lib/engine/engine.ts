/**
 * The contract an engine module fulfils to run inside an EngineHost worker.
 * The module exports `createEngine(options)`; the host calls its `handle`
 * for every request. Native calls block the worker thread, never Node-RED's.
 */
export interface CallContext {
  /** Aborted when the caller cancels; check it between slices of work. */
  signal: AbortSignal;
  /** Sends a partial result (streamed audio, partial transcript) to the caller. */
  emit(chunk: unknown, transfer?: Transferable[]): void;
}

export interface Engine {
  handle(method: string, payload: unknown, ctx: CallContext): unknown;
  /** Frees native memory before the worker exits. */
  dispose?(): unknown;
  /** Anything the host should know once loaded (sample rate, model name). */
  info?: unknown;
}

export type EngineFactory = (options: unknown) => Engine | Promise<Engine>;

/** Lets a long synchronous loop notice a cancel message between slices. */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
