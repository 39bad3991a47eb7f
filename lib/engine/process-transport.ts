import { fork } from 'node:child_process';
import { childExecArgv } from '../child-module';
import type { EngineBoot, WorkerToHost } from './messages';
import { WORKER_MAIN, YOUNG_GENERATION_MB } from './thread-transport';
import type { EngineTransport } from './transport';

/** How much of the child's stderr is kept to explain a crash. */
const STDERR_TAIL = 4096;

/**
 * The engine in a child process. sherpa-onnx aborts the whole process on a
 * model whose graph does not parse (an uncaught Ort::Exception) and calls C
 * exit() on missing metadata; here that ends only the child, and what the
 * library printed before dying explains the crash. Messages use V8's
 * serializer ('advanced'), so Float32Arrays cross as typed arrays.
 */
export function processTransport(boot: EngineBoot): EngineTransport {
  // YOUNG_GENERATION: see there.
  const execArgv = [`--max-semi-space-size=${YOUNG_GENERATION_MB / 3}`, ...childExecArgv(WORKER_MAIN)];
  const child = fork(WORKER_MAIN, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.send({ kind: 'boot', boot });
  return {
    send: (m) => {
      // A message to a child that just died is dropped: its exit is reported on its own.
      if (!exited && child.connected) child.send(m);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as WorkerToHost)),
    // Spawn and IPC failures; a crash inside the engine shows as an exit.
    onError: (listener) => child.on('error', listener),
    // 'close' comes after stderr has been read to its end, so lastWords() is complete.
    onExit: (listener) => child.once('close', (code, signal) => listener(signal ? `signal ${signal}` : `code ${code}`)),
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
    lastWords: () => stderr.trim(),
    pid: child.pid,
  };
}
