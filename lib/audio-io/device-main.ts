// The device process of device-process.ts: one stream of one native backend, driven over IPC.
import { DeviceError, type BackendName, type DeviceStream } from './backend';
import type { FromDevice, ToDevice } from './device-process';
import { loadNativeBackend } from './load-backend';

const send = (m: FromDevice) => {
  if (process.connected) process.send?.(m);
};

function failure(err: unknown): FromDevice {
  const e = err instanceof DeviceError ? err : new DeviceError('OPEN_FAILED', `cannot open the audio device: ${(err as Error).message}`);
  return { kind: 'failed', code: e.code, message: e.message, statusText: e.statusText };
}

let stream: DeviceStream | undefined;

process.on('message', (m: ToDevice) => {
  if (m.kind === 'open') {
    try {
      stream = loadNativeBackend(process.argv[2] as BackendName).open(m.request, {
        capture: (samples) => send({ kind: 'capture', samples }),
        played: () => send({ kind: 'played' }),
        error: (err) => send(failure(err)),
      });
      send({ kind: 'opened' });
    } catch (err) {
      send(failure(err));
    }
  } else if (m.kind === 'write') stream?.write(m.samples);
  else if (m.kind === 'clear') stream?.clear();
  else if (m.kind === 'close') void Promise.resolve(stream?.close()).finally(() => process.exit(0));
});

// Node-RED gone, even by SIGKILL: the IPC channel closes, and this process ends without touching the stream.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
