/**
 * voiceprint: embedding time per second of audio through the worker versus
 * sherpa-onnx's extractor called bare, and the decision latency (speech heard
 * before the decision, and compute time of the decision itself). Uses a real
 * speaker model when installed, else the tiny test model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavMono } from '../lib/audio/wav';
import { EngineHost } from '../lib/engine/host';
import type { VoiceprintEvent } from '../lib/voiceprint/voiceprint-engine';
import { firstInstalled } from '../test/support/real-models';
import { writeTinySpeakerModel } from '../test/support/tiny-speaker-model';
import type { BenchRow } from './table';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

const SHARED = process.env.VOICE_SHARED_DIR ?? join(__dirname, '..', '..', 'shared');
const RUNS = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(): Promise<BenchRow[]> {
  const real = firstInstalled(['speaker-campplus-en', 'speaker-wespeaker-en-resnet34', 'speaker-titanet-small']);
  const scratch = mkdtempSync(join(tmpdir(), 'bench-vp-'));
  const model = real ? join(real.dir, 'model.onnx') : writeTinySpeakerModel(scratch);
  const { samples } = await readWavMono(join(SHARED, 'models', 'testdata', 'arctic_aew_a0001.wav'));
  const seconds = samples.length / 16000;

  const extractor = new sherpa.SpeakerEmbeddingExtractor({ model, numThreads: 1, debug: false });
  const bare: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const s = extractor.createStream();
    s.acceptWaveform({ samples, sampleRate: 16000 });
    s.inputFinished?.();
    extractor.compute(s);
    if (i) bare.push((performance.now() - t0) / seconds);
  }

  const vad = { model: join(SHARED, 'models', 'vad', 'silero_vad.onnx'), threshold: 0.5, minSpeech: 0.25, minSilence: 0.5, maxSpeech: 20 };
  const host = new EngineHost({ modulePath: require.resolve('../lib/voiceprint/voiceprint-engine'), name: 'voiceprint', options: { model, vad, decisionSeconds: 0.5 } });
  await host.start();
  const viaWorker: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    await host.call('embed', samples);
    if (i) viaWorker.push((performance.now() - t0) / seconds);
  }
  const heard: number[] = [];
  const decideMs: number[] = [];
  const audio = new Float32Array(16000 + samples.length + 16000);
  audio.set(samples, 16000);
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < audio.length; i += 320) {
      const t0 = performance.now();
      const events = await host.call<VoiceprintEvent[]>('audio', audio.slice(i, i + 320));
      const decision = events.find((e) => e.type === 'decision');
      if (decision && decision.type === 'decision') {
        heard.push(decision.heardMs);
        decideMs.push(performance.now() - t0);
      }
    }
  }
  await host.close();
  rmSync(scratch, { recursive: true, force: true });

  const bench = `voiceprint (${real ? real.name : 'tiny test model'})`;
  return [
    { bench, metric: 'embedding time per second of audio', value: median(viaWorker), unit: 'ms/s', baseline: median(bare), goal: 'ratio ~1' },
    { bench, metric: 'speech heard before the decision', value: median(heard), unit: 'ms', goal: '0.5 s + one 20 ms frame' },
    { bench, metric: 'decision compute (frame in → decision out)', value: median(decideMs), unit: 'ms' },
  ];
}

if (require.main === module) {
  void run().then(async (rows) => (await import('./table')).printTable(rows));
}
