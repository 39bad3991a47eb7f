import type { SerializedError } from './messages';

/** The engine's own failure for one request (bad input, missing file...). */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly statusText?: string,
    /** The message without the engine's name in front, for a status line. */
    readonly reason = message,
  ) {
    super(message);
    this.name = 'EngineError';
  }

  static from(e: SerializedError, engine: string): EngineError {
    const err = new EngineError(`${engine}: ${e.message}`, e.code, e.statusText, e.message);
    if (e.name && e.name !== 'Error') err.name = e.name;
    return err;
  }
}

/** The worker died while the request was in flight; the host restarts it. */
export class EngineCrashedError extends Error {
  readonly code = 'ENGINE_CRASHED';
  constructor(message: string) {
    super(message);
    this.name = 'EngineCrashedError';
  }
}

/** The caller cancelled the request. */
export class EngineAbortedError extends Error {
  readonly code = 'ABORTED';
  constructor(engine: string) {
    super(`${engine}: request cancelled`);
    this.name = 'AbortError';
  }
}

/** The host was closed (node removed or redeployed). */
export class EngineClosedError extends Error {
  readonly code = 'ENGINE_CLOSED';
  constructor(engine: string) {
    super(`${engine}: engine is closed`);
    this.name = 'EngineClosedError';
  }
}
