import { spawn } from 'node:child_process';
import { extname, join } from 'node:path';
import { childExecArgv } from '../child-module';
import { DeviceError, type AudioDevice, type BackendName } from './backend';

/** What the probe child prints: the devices, and for audify the host API it chose. */
export interface Probe {
  devices: AudioDevice[];
  api?: number;
}

/** Where the noise of the native libraries goes: one summary line, and the full text once at debug level. */
export interface NoiseLog {
  info(line: string): void;
  debug(text: string): void;
}

const PROBE_MAIN = join(__dirname, `probe-main${extname(__filename)}`);
const PROBE_TIMEOUT_MS = 15_000;
let noiseLog: NoiseLog | undefined;
let noiseTold = false;

/** Node-RED's log (the sound-card node sets it); without one the noise is only dropped. */
export function logNativeNoiseTo(log: NoiseLog | undefined): void {
  noiseLog = log;
}

function tellNoise(name: BackendName, noise: string): void {
  if (!noise || noiseTold || !noiseLog) return;
  noiseTold = true;
  const lines = noise.split('\n').length;
  noiseLog.info(`[sound-card] the ${name} audio libraries printed ${lines} lines while looking for devices (ALSA, JACK, PulseAudio messages); they are kept out of this log, shown once at debug level`);
  noiseLog.debug(`[sound-card] what the ${name} audio libraries printed:\n${noise}`);
}

/**
 * Lists a backend's devices in a short child process. ALSA, JACK and
 * RtApiPulse write their complaints straight to file descriptor 2, which
 * Node cannot redirect in-process without a native addon; in a child, that
 * stderr is a pipe we read, so a missing device retried every few seconds
 * adds nothing to Node-RED's log.
 */
export function probeDevices(name: BackendName): Promise<Probe> {
  const execArgv = childExecArgv(PROBE_MAIN);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, PROBE_MAIN, name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let noise = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (noise += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new DeviceError('OPEN_FAILED', `cannot list ${name} devices: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      noise = noise.trim();
      if (code === 0) {
        tellNoise(name, noise);
        try {
          return resolve(JSON.parse(out) as Probe);
        } catch {
          // fall through: what the child printed is not a device list
        }
      }
      const why = signal === 'SIGKILL' ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s` : noise.split('\n').at(-1) || `exit code ${code ?? signal}`;
      reject(new DeviceError('OPEN_FAILED', `cannot list ${name} devices: ${why}`));
    });
  });
}
