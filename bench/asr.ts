/**
 * asr: VAD cost per 20 ms frame (our VadStream vs sherpa-onnx's Vad called
 * bare), recogniser real-time factor, and speech-end → final transcript
 * through the worker. Uses asr-zipformer-en-20m when installed, else the tiny
 * test recogniser.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AsrEvent } from '../lib/asr/asr-engine';
import { VadStream } from '../lib/asr/vad-stream';
import { readWavMono } from '../lib/audio/wav';
import { EngineHost } from '../lib/engine/host';
import { installedModel } from '../test/support/real-models';
import { writeTinyAsrModel } from '../test/support/tiny-asr-model';
import type { BenchRow } from './table';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

const SHARED = process.env.VOICE_SHARED_DIR ?? join(__dirname, '..', '..', 'shared');
const VAD = { model: join(SHARED, 'models', 'vad', 'silero_vad.onnx'), threshold: 0.5, minSpeech: 0.25, minSilence: 0.5, maxSpeech: 20 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(): Promise<BenchRow[]> {
  const { samples } = await readWavMono(join(SHARED, 'models', 'testdata', 'silero_vad_test_60s.wav'));
  const frames = Math.floor(samples.length / 320);

  const ours = new VadStream(VAD);
  let t0 = performance.now();
  for (let i = 0; i < frames; i++) ours.push(samples.subarray(i * 320, (i + 1) * 320));
  const oursUs = ((performance.now() - t0) * 1000) / frames;

  const bare = new sherpa.Vad({ sileroVad: { ...VAD, minSpeechDuration: 0.25, minSilenceDuration: 0.5, maxSpeechDuration: 20, windowSize: 512 }, sampleRate: 16000, numThreads: 1, debug: false }, 30);
  t0 = performance.now();
  for (let i = 0; i + 512 <= samples.length; i += 512) {
    bare.acceptWaveform(samples.subarray(i, i + 512));
    while (!bare.isEmpty()) bare.pop();
  }
  const bareUs = ((performance.now() - t0) * 1000) / frames;

  const real = installedModel('asr-zipformer-en-20m');
  const scratch = mkdtempSync(join(tmpdir(), 'bench-asr-'));
  const modelDir = real ?? writeTinyAsrModel(scratch);
  const host = new EngineHost({ modulePath: require.resolve('../lib/asr/asr-engine'), name: 'asr', options: { vad: VAD, modelDir } });
  await host.start();
  const rtf: number[] = [];
  const endToFinal: number[] = [];
  for (let i = 0; i < frames; i++) {
    const sent = performance.now();
    const events = await host.call<AsrEvent[]>('audio', samples.slice(i * 320, (i + 1) * 320));
    for (const e of events) {
      if (e.type !== 'final') continue;
      endToFinal.push(performance.now() - sent);
      rtf.push(e.recognitionMs / (e.speechEndMs - e.speechStartMs));
    }
  }
  await host.close();
  rmSync(scratch, { recursive: true, force: true });

  const label = `asr (${real ? 'zipformer 20M' : 'tiny test model'})`;
  return [
    { bench: 'asr VAD', metric: 'cost per 20 ms frame', value: oursUs, unit: 'µs', baseline: bareUs, goal: 'ratio ~1' },
    { bench: label, metric: 'recogniser real-time factor (median)', value: median(rtf), unit: 'x', goal: '< 0.3' },
    { bench: label, metric: 'speech-end → final transcript (median)', value: median(endToFinal), unit: 'ms', goal: 'small vs 500 ms end silence' },
  ];
}

if (require.main === module) {
  void run().then(async (rows) => (await import('./table')).printTable(rows));
}
