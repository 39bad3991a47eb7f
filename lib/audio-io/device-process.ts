import { fork } from 'node:child_process';
import { extname, join } from 'node:path';
import { childExecArgv } from '../child-module';
import { DeviceError, type AudioBackend, type AudioDevice, type BackendName, type DeviceErrorCode, type DeviceStream, type OpenRequest, type StreamHandlers } from './backend';
import { probeDevices } from './device-probe';

/** What Node-RED's process tells the device process (device-main.ts). */
export type ToDevice = { kind: 'open'; request: OpenRequest } | { kind: 'write'; samples: Int16Array } | { kind: 'clear' } | { kind: 'close' };

/** What the device process tells Node-RED's: one message per device callback, in the device's order. */
export type FromDevice =
  | { kind: 'opened' }
  | { kind: 'capture'; samples: Int16Array }
  | { kind: 'played' }
  | { kind: 'failed'; code: DeviceErrorCode; message: string; statusText?: string };

const DEVICE_MAIN = join(__dirname, `device-main${extname(__filename)}`);
/** A device that has not opened by then never will (a hung sound server). */
const OPEN_TIMEOUT_MS = 15_000;
/** A stream that has not closed by then is stuck in the library (see below): its process is killed. */
const CLOSE_TIMEOUT_MS = 1000;
/** How much of the libraries' stderr is kept to explain a failure. */
const STDERR_TAIL = 2048;

/**
 * A native backend's stream, run in a child process of its own. libpulse can
 * deadlock the process that closes a stream whose server died (RtApiPulse's
 * closeStream waits in pa_memimport_free while its reader thread holds the
 * stream lock), and a dead RtAudio stream calls back at full CPU speed: in a
 * child, a lost or stuck stream costs a SIGKILL, never Node-RED's event loop,
 * and each reopen starts with a fresh library state. Samples cross as typed
 * arrays (V8 serialisation), a few hundred bytes per 20 ms buffer.
 */
export class DeviceProcessBackend implements AudioBackend {
  constructor(readonly name: BackendName) {}

  async probe(): Promise<AudioDevice[]> {
    return (await probeDevices(this.name)).devices;
  }

  open(request: OpenRequest, handlers: StreamHandlers): Promise<DeviceStream> {
    const child = fork(DEVICE_MAIN, [this.name], { execArgv: childExecArgv(DEVICE_MAIN), serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-STDERR_TAIL)));
    // 'close' comes once stderr has been read to its end, so what the library said last is there.
    const gone = new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)));
    let state: 'opening' | 'open' | 'dead' | 'closed' = 'opening';
    const send = (m: ToDevice) => {
      if (child.connected) child.send(m);
    };
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const stream: DeviceStream = {
      sampleRate: request.sampleRate,
      framesPerBuffer: request.framesPerBuffer,
      write: (samples) => send({ kind: 'write', samples }),
      clear: () => send({ kind: 'clear' }),
      close: async () => {
        if (state === 'closed') return;
        const wasOpen = state === 'open';
        state = 'closed';
        if (wasOpen) send({ kind: 'close' });
        else kill();
        const timer = setTimeout(kill, CLOSE_TIMEOUT_MS);
        await gone;
        clearTimeout(timer);
      },
    };
    return new Promise<DeviceStream>((resolve, reject) => {
      const lose = (err: DeviceError) => {
        if (state === 'opening') {
          clearTimeout(openTimer);
          reject(err);
        } else if (state === 'open') handlers.error?.(err);
        else return;
        // A lost stream is not closed through the library (that is what can hang): its process goes.
        state = 'dead';
        kill();
      };
      const openTimer = setTimeout(() => lose(new DeviceError('OPEN_FAILED', `the audio device did not open within ${OPEN_TIMEOUT_MS / 1000} s`)), OPEN_TIMEOUT_MS);
      child.on('message', (m: FromDevice) => {
        if (m.kind === 'capture') {
          if (state === 'open') handlers.capture?.(m.samples);
        } else if (m.kind === 'played') {
          if (state === 'open') handlers.played?.();
        } else if (m.kind === 'opened') {
          if (state !== 'opening') return;
          clearTimeout(openTimer);
          state = 'open';
          resolve(stream);
        } else lose(new DeviceError(m.code, m.message, m.statusText));
      });
      // Spawn and IPC failures; a crash inside the library shows as the process ending.
      child.on('error', (err) => lose(new DeviceError(state === 'opening' ? 'OPEN_FAILED' : 'DEVICE_LOST', `audio process: ${err.message}`)));
      void gone.then((how) => {
        const said = stderr.trim().split('\n').at(-1);
        lose(new DeviceError(state === 'opening' ? 'OPEN_FAILED' : 'DEVICE_LOST', `the audio process stopped (${how})${said ? `: ${said}` : ''}`));
      });
      send({ kind: 'open', request });
    });
  }
}
