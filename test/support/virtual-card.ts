import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SHARED } from './paths';

/**
 * The virtual sound card of ../shared/audio/vaudio.sh: two PulseAudio null
 * sinks, bit-exact. The app's microphone is "Monitor of vmic_in" (the test
 * plays into vmic_in); its speaker is "vspk" (the test records vspk.monitor).
 */
const SCRIPT = join(SHARED, 'audio', 'vaudio.sh');
const DIR = process.env.VAUDIO_DIR ?? '/tmp/vaudio';

export const VIRTUAL_MIC = 'Monitor of vmic_in';
export const VIRTUAL_SPEAKER = 'vspk';
/** naudiodon sees the card through ALSA's pulse plugin, under vaudio.sh's PCM names. */
export const ALSA_NAMES = { mic: 'vmic', speaker: 'vspk' };
export const CARD_RATE = 16000;

/** Why the virtual card cannot run here, or undefined when it can. */
export function virtualCardMissing(): string | undefined {
  if (!existsSync(SCRIPT)) return `no ${SCRIPT}`;
  if (spawnSync('which', ['pulseaudio', 'pacat']).status !== 0) return 'PulseAudio is not installed (apt-get install pulseaudio pulseaudio-utils libasound2-plugins)';
  return undefined;
}

export function startVirtualCard(): void {
  process.env.PULSE_SERVER = `unix:${DIR}/native`;
  process.env.ALSA_CONFIG_PATH = `${DIR}/asound.conf`;
  execFileSync('bash', [SCRIPT, 'stop'], { stdio: 'ignore' });
  execFileSync('bash', [SCRIPT, 'start'], { stdio: 'ignore', env: { ...process.env, VAUDIO_DIR: DIR, VAUDIO_RATE: String(CARD_RATE) } });
}

export function stopVirtualCard(): void {
  execFileSync('bash', [SCRIPT, 'stop'], { stdio: 'ignore' });
}

/**
 * Plays samples into the virtual microphone; resolves when PulseAudio has taken them.
 * pacat reads them from a file, not a pipe from us: a busy test process must
 * not starve the "microphone" (that would be a gap in the source, not in capture).
 */
export function playIntoMic(samples: Int16Array): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'vmic-')), 'clip.raw');
  writeFileSync(file, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  return new Promise<void>((resolve, reject) => {
    const p = spawn('pacat', ['-p', '-d', 'vmic_in', `--rate=${CARD_RATE}`, '--channels=1', '--format=s16le', '--latency-msec=20', file], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pacat exited with ${code}`))));
  }).finally(() => rmSync(dirname(file), { recursive: true, force: true }));
}

/** Records what the app plays on the virtual speaker until stop() is called. */
export function recordSpeaker(): { stop(): Promise<Int16Array> } {
  const chunks: Buffer[] = [];
  const p: ChildProcess = spawn('parec', ['-d', 'vspk.monitor', `--rate=${CARD_RATE}`, '--channels=1', '--format=s16le', '--latency-msec=10'], { stdio: ['ignore', 'pipe', 'ignore'] });
  p.stdout?.on('data', (c: Buffer) => chunks.push(c));
  return {
    stop: () =>
      new Promise((resolve) => {
        p.once('exit', () => {
          const all = Buffer.concat(chunks);
          resolve(new Int16Array(all.buffer.slice(all.byteOffset, all.byteOffset + (all.length & ~1))));
        });
        p.kill('SIGTERM');
      }),
  };
}

