import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
/** A sample this close to 0 is silence: the null sink when nothing plays. */
const QUIET = 8;

/** How many samples of a recording of the virtual speaker sound (are above the null sink's silence). */
export const soundingSamples = (x: Int16Array): number => x.filter((v) => Math.abs(v) > QUIET).length;

/** Why the virtual card cannot run here, or undefined when it can. */
export function virtualCardMissing(): string | undefined {
  if (!existsSync(SCRIPT)) return `no ${SCRIPT}`;
  if (spawnSync('which', ['pulseaudio', 'pacat']).status !== 0) return 'PulseAudio is not installed (apt-get install pulseaudio pulseaudio-utils libasound2-plugins)';
  return undefined;
}

export function startVirtualCard(): void {
  process.env.PULSE_SERVER = `unix:${DIR}/native`;
  process.env.ALSA_CONFIG_PATH = `${DIR}/asound.conf`;
  // PulseAudio keeps one pid file per user: without a runtime directory of its own, a second
  // card (another VAUDIO_DIR) refuses to start ("Daemon already running"), and the script's
  // `pulseaudio --kill` fallback stops whichever card wrote that file last.
  process.env.PULSE_RUNTIME_PATH = DIR;
  execFileSync('bash', [SCRIPT, 'stop'], { stdio: 'ignore' });
  // `stop` asks the daemon to exit and returns; until it has, a new one refuses to start
  // ("Daemon already running"), which a busy machine makes likely right after a stop.
  for (let attempt = 1; ; attempt++) {
    waitFor(() => !daemonAlive(), 5000);
    try {
      execFileSync('bash', [SCRIPT, 'start'], { stdio: 'ignore', env: { ...process.env, VAUDIO_DIR: DIR, VAUDIO_RATE: String(CARD_RATE) } });
      return;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

/** Whether this card's PulseAudio daemon (its pid file in the runtime directory) is still running. */
function daemonAlive(): boolean {
  try {
    process.kill(Number(readFileSync(join(DIR, 'pid'), 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

/** Blocks (the card is started synchronously) until `done` or `ms` have passed. */
function waitFor(done: () => boolean, ms: number): void {
  const tick = new Int32Array(new SharedArrayBuffer(4));
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) Atomics.wait(tick, 0, 0, 50);
}

export function stopVirtualCard(): void {
  execFileSync('bash', [SCRIPT, 'stop'], { stdio: 'ignore', env: { ...process.env, VAUDIO_DIR: DIR, PULSE_RUNTIME_PATH: DIR } });
}

/**
 * Plays samples into the virtual microphone; resolves when PulseAudio has taken them.
 * pacat reads them from a file, not a pipe from us: a busy test process must
 * not starve the "microphone" (that would be a gap in the source, not in capture).
 * A machine busy with a whole flow still starves a 20 ms buffer now and then:
 * `latencyMs` gives pacat a deeper one (the clip then starts that much later).
 */
export function playIntoMic(samples: Int16Array, options: { latencyMs?: number } = {}): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'vmic-')), 'clip.raw');
  writeFileSync(file, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  return new Promise<void>((resolve, reject) => {
    const p = spawn('pacat', ['-p', '-d', 'vmic_in', `--rate=${CARD_RATE}`, '--channels=1', '--format=s16le', `--latency-msec=${options.latencyMs ?? 20}`, file], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pacat exited with ${code}`))));
  }).finally(() => rmSync(dirname(file), { recursive: true, force: true }));
}

/** Records what the app plays on the virtual speaker until stop() is called; soFar() is what it holds already. */
export function recordSpeaker(): { soFar(): Int16Array; stop(): Promise<Int16Array> } {
  const recording = recordSpeakerWithClock();
  return { soFar: recording.soFar, stop: async () => (await recording.stop()).samples };
}

/**
 * recordSpeaker, with the clock of the recording: `startedAt` is the
 * performance.now() instant of its first sample, so sample i was played at
 * startedAt + i / CARD_RATE s. The sink plays in real time, so each chunk's
 * arrival bounds the start from above; the earliest bound (least delayed by
 * the event loop) is kept. Never too early: a latency measured with it is
 * never shorter than the real one.
 */
export function recordSpeakerWithClock(): { soFar(): Int16Array; stop(): Promise<{ samples: Int16Array; startedAt: number }> } {
  const chunks: Buffer[] = [];
  const samples = () => {
    const all = Buffer.concat(chunks);
    return new Int16Array(all.buffer.slice(all.byteOffset, all.byteOffset + (all.length & ~1)));
  };
  let received = 0;
  let startedAt = Infinity;
  const p: ChildProcess = spawn('parec', ['-d', 'vspk.monitor', `--rate=${CARD_RATE}`, '--channels=1', '--format=s16le', '--latency-msec=10'], { stdio: ['ignore', 'pipe', 'ignore'] });
  p.stdout?.on('data', (c: Buffer) => {
    const now = performance.now();
    chunks.push(c);
    received += c.length;
    startedAt = Math.min(startedAt, now - (received / 2 / CARD_RATE) * 1000);
  });
  return {
    soFar: samples,
    stop: () =>
      new Promise((resolve) => {
        const recorded = () => resolve({ samples: samples(), startedAt });
        // parec may have ended on its own (PulseAudio restarted under it): its 'exit' is past.
        if (p.exitCode !== null || p.signalCode !== null) return recorded();
        p.once('exit', recorded);
        p.kill('SIGTERM');
      }),
  };
}

/**
 * Makes the virtual room acoustic: what the app plays on the speaker reaches
 * its microphone `latencyMs` later (PulseAudio module-loopback, which also
 * nudges its resampling rate to hold that latency, like a real device pair).
 * Returns the function that removes it.
 */
export function speakerIntoMic(latencyMs: number): () => void {
  const id = execFileSync('pactl', ['load-module', 'module-loopback', 'source=vspk.monitor', 'sink=vmic_in', `latency_msec=${latencyMs}`, 'adjust_time=0'], { encoding: 'utf8' }).trim();
  return () => execFileSync('pactl', ['unload-module', id], { stdio: 'ignore' });
}

/**
 * The virtual card for the enclosing describe(): started before its tests,
 * stopped after them; without PulseAudio they are skipped, saying why.
 */
export function useVirtualCard(): void {
  const missing = virtualCardMissing();
  before(function () {
    if (missing) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    startVirtualCard();
  });
  after(() => {
    if (!missing) stopVirtualCard();
  });
}
