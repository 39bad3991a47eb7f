/** What the engine host and its worker (thread or child process) say to each other. */

/** What worker-main needs to load the engine. */
export interface EngineBoot {
  modulePath: string;
  options: unknown;
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  /** A short text for a node's status line, when the error brings one. */
  statusText?: string;
  stack?: string;
}

export type HostToWorker =
  /** A child process's first message: which engine to load (a thread gets it as workerData). */
  | { kind: 'boot'; boot: EngineBoot }
  | { kind: 'call'; id: number; method: string; payload: unknown }
  | { kind: 'cancel'; id: number }
  | { kind: 'shutdown' };

export type WorkerToHost =
  | { kind: 'ready'; info: unknown }
  | { kind: 'init-error'; error: SerializedError }
  | { kind: 'chunk'; id: number; data: unknown }
  | { kind: 'result'; id: number; data: unknown }
  | { kind: 'error'; id: number; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const { code, statusText } = err as { code?: unknown; statusText?: unknown };
    return {
      name: err.name,
      message: err.message,
      code: typeof code === 'string' ? code : undefined,
      statusText: typeof statusText === 'string' ? statusText : undefined,
      stack: err.stack,
    };
  }
  return { name: 'Error', message: String(err) };
}
