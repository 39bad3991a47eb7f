import { BACKENDS, DeviceError, type AudioBackend, type BackendName } from './backend';

/**
 * Backends are native addons that may be missing (naudiodon is optional, and
 * a failed build leaves audify out): load one only when asked, and say which
 * are there instead of crashing on require.
 */
const loaded = new Map<BackendName, AudioBackend>();

export function loadBackend(name: BackendName): AudioBackend {
  const cached = loaded.get(name);
  if (cached) return cached;
  if (!BACKENDS.includes(name)) throw new DeviceError('NO_BACKEND', `unknown audio backend "${String(name)}" (expected ${BACKENDS.join(' or ')})`);
  let backend: AudioBackend;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    backend = name === 'audify' ? new (require('./audify-backend').AudifyBackend)() : new (require('./naudiodon-backend').NaudiodonBackend)();
  } catch (err) {
    throw new DeviceError('NO_BACKEND', `audio backend "${name}" is not installed or failed to load: ${(err as Error).message.split('\n')[0]}`);
  }
  loaded.set(name, backend);
  return backend;
}

/** The backends that load on this machine, for the editor and for tests. */
export function availableBackends(): BackendName[] {
  return BACKENDS.filter((name) => {
    try {
      loadBackend(name);
      return true;
    } catch {
      return false;
    }
  });
}
