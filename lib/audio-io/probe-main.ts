// The child process of device-probe.ts: lists one backend's devices as JSON on stdout.
import { AudifyBackend } from './audify-backend';
import type { BackendName } from './backend';
import type { Probe } from './device-probe';
import { loadNativeBackend } from './load-backend';

const backend = loadNativeBackend(process.argv[2] as BackendName);
const probe: Probe = { devices: backend.devices(), api: backend instanceof AudifyBackend ? backend.hostApi() : undefined };
process.stdout.write(JSON.stringify(probe));
