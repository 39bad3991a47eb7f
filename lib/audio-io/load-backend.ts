import { BACKENDS, DeviceError, type AudioBackend, type BackendName, type NativeBackend } from './backend';
import { DeviceProcessBackend } from './device-process';

/**
 * Backends are native addons that may be missing (naudiodon is optional, and
 * a failed build leaves audify out): load one only when asked, and say which
 * are there instead of crashing on require.
 */
const native = new Map<BackendName, NativeBackend>();
const inDeviceProcess = new Map<BackendName, AudioBackend>();

/** The library itself, in this process: for the device process, the probe and benchmarks. */
export function loadNativeBackend(name: BackendName): NativeBackend {
  const cached = native.get(name);
  if (cached) return cached;
  if (!BACKENDS.includes(name)) throw new DeviceError('NO_BACKEND', `unknown audio backend "${String(name)}" (expected ${BACKENDS.join(' or ')})`);
  let backend: NativeBackend;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    backend = name === 'audify' ? new (require('./audify-backend').AudifyBackend)() : new (require('./naudiodon-backend').NaudiodonBackend)();
  } catch (err) {
    throw new DeviceError('NO_BACKEND', `audio backend "${name}" is not installed or failed to load: ${(err as Error).message.split('\n')[0]}`);
  }
  native.set(name, backend);
  return backend;
}

/** What sound cards use: the backend's streams run in a device process (device-process.ts). */
export function loadBackend(name: BackendName): AudioBackend {
  // Loading the addon here says at once (NO_BACKEND) whether it is installed; no stream opens in this process.
  loadNativeBackend(name);
  let backend = inDeviceProcess.get(name);
  if (!backend) inDeviceProcess.set(name, (backend = new DeviceProcessBackend(name)));
  return backend;
}

/** The backends that load on this machine, for the editor and for tests. */
export function availableBackends(): BackendName[] {
  return BACKENDS.filter((name) => {
    try {
      loadNativeBackend(name);
      return true;
    } catch {
      return false;
    }
  });
}
