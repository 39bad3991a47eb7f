/**
 * The wire between an EngineHost and the engine it runs, whichever kind of
 * container holds the engine: a worker thread (cheapest) or a child process
 * (a native abort or exit() inside the engine kills only the child).
 */
import type { HostToWorker, WorkerToHost } from './messages';

export type Isolation = 'process' | 'thread';

export interface EngineTransport {
  send(m: HostToWorker, transfer?: Transferable[]): void;
  onMessage(listener: (m: WorkerToHost) => void): void;
  /** An uncaught error inside the container (threads only: a process reports it by exiting). */
  onError(listener: (err: Error) => void): void;
  /** `how` reads like "code 7" or "signal SIGABRT". Fires once. */
  onExit(listener: (how: string) => void): void;
  /** Ends the container at once. */
  kill(): void;
  /** The last lines the engine's native libraries wrote to stderr, if they could be captured. */
  lastWords(): string;
  /** The child process's id; undefined for a thread, which shares this process. */
  readonly pid?: number;
}
