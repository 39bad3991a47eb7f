/**
 * Sound devices on the virtual card (../shared/audio/vaudio.sh), per installed
 * backend: capture-callback interval jitter through the sound card (its stream
 * in a device process) versus the bare backend stream in this process, and interrupt-to-silence (audio heard after the cut, in
 * a recording of the speaker) with our two-buffer queue versus handing the
 * whole reply to the device and clearing its queue.
 */
import type { AudioBackend } from '../lib/audio-io/backend';
import { availableBackends, loadBackend, loadNativeBackend } from '../lib/audio-io/load-backend';
import { PlaybackQueue } from '../lib/audio-io/playback-queue';
import { SoundCard } from '../lib/audio-io/sound-card';
import { loudSpan, tone } from '../test/support/signal';
import { ALSA_NAMES, CARD_RATE, recordSpeaker, startVirtualCard, stopVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER, virtualCardMissing } from '../test/support/virtual-card';
import type { BenchRow } from './table';

const FRAME_MS = 20;
const FPB = (CARD_RATE * FRAME_MS) / 1000;
const RUNS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];

function jitter(times: number[]): number[] {
  return times.slice(1).map((t, i) => Math.abs(t - times[i] - FRAME_MS));
}

async function captureTimes(open: (onCapture: () => void) => Promise<() => Promise<void>>): Promise<number[]> {
  const times: number[] = [];
  const close = await open(() => times.push(performance.now()));
  await sleep(3000);
  await close();
  // The first second holds the stream's start-up burst.
  return times.filter((t) => t > times[0] + 1000);
}

/**
 * ms of audio heard after the cut: what was heard minus what had played when
 * it came. The speaker opens before the recorder starts (PulseAudio records
 * silence from a monitor whose sink gets its first stream later).
 */
async function heardAfterCut(backend: AudioBackend, speaker: string, lead: number): Promise<number> {
  const card = new SoundCard(() => backend, { input: '', output: speaker, sampleRate: CARD_RATE, frameMs: FRAME_MS });
  let startedAt = 0;
  const queue = new PlaybackQueue({ sampleRate: CARD_RATE, framesPerBuffer: FPB }, { started: () => (startedAt = performance.now()), ended: () => undefined }, { lead, idleEndMs: 1000 });
  const opened = new Promise((resolve) => card.on('state', (state: string) => state === 'open' && resolve(state)));
  card.addOutput({ attach: (s) => queue.attach(s), onPlayed: () => queue.onPlayed() });
  await opened;
  const recorder = recordSpeaker();
  await sleep(300);
  queue.enqueue({ turnId: 't', samples: tone(CARD_RATE, 3), complete: true });
  while (!startedAt) await sleep(5);
  await sleep(1000);
  const cutAt = performance.now();
  queue.cancel(() => true);
  await sleep(1500);
  const heardMs = (loudSpan(await recorder.stop()) / CARD_RATE) * 1000;
  await card.close();
  return heardMs - (cutAt - startedAt);
}

export async function run(): Promise<BenchRow[]> {
  const missing = virtualCardMissing();
  if (missing) {
    console.error(`audio-io bench skipped: ${missing}`);
    return [];
  }
  startVirtualCard();
  const rows: BenchRow[] = [];
  try {
    for (const name of availableBackends()) {
      const backend = loadBackend(name);
      const mic = name === 'audify' ? VIRTUAL_MIC : ALSA_NAMES.mic;
      const speaker = name === 'audify' ? VIRTUAL_SPEAKER : ALSA_NAMES.speaker;
      const bench = `audio (${name})`;

      const bare = await captureTimes(async (onCapture) => {
        const stream = loadNativeBackend(name).open({ sampleRate: CARD_RATE, framesPerBuffer: FPB, input: mic }, { capture: onCapture });
        return () => stream.close();
      });
      const viaCard = await captureTimes(async (onCapture) => {
        const c = new SoundCard(() => backend, { input: mic, output: speaker, sampleRate: CARD_RATE, frameMs: FRAME_MS });
        c.addInput(onCapture);
        return () => c.close();
      });
      rows.push({ bench, metric: 'capture interval jitter p50', value: median(jitter(viaCard)), unit: 'ms', baseline: median(jitter(bare)) });
      rows.push({ bench, metric: 'capture interval jitter p99', value: p99(jitter(viaCard)), unit: 'ms', baseline: p99(jitter(bare)) });

      const ours: number[] = [];
      const naive: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        ours.push(await heardAfterCut(backend, speaker, 2));
        // The naive speaker: the whole reply handed to the device at once, its queue cleared on the cut.
        naive.push(await heardAfterCut(backend, speaker, 100_000));
      }
      rows.push({ bench, metric: 'audio after interrupt (median of 5)', value: median(ours), unit: 'ms', baseline: median(naive), goal: `< ${60 + FRAME_MS}` });
    }
  } finally {
    stopVirtualCard();
  }
  return rows;
}

if (require.main === module) {
  void run().then(async (rows) => (await import('./table')).printTable(rows));
}
