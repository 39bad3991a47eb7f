/**
 * asr: VAD cost per 20 ms frame (lib/vad vs sherpa-onnx's Vad called bare, in
 * the same run), and per recogniser: real-time factor and speech-end → final
 * transcript through the worker, over the 60 s speech clip. Runs every
 * installed catalog recogniser; without one, the two tiny test models (their
 * figures measure our plumbing, not a real model).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AsrEvent } from '../lib/asr/asr-engine';
import { readWavMono } from '../lib/audio/wav';
import { EngineHost } from '../lib/engine/host';
import { installedModels } from '../lib/models/installed';
import { SileroVad, VAD_DEFAULTS } from '../lib/vad/silero-vad';
import { writeTinyAsrModel, writeTinyStreamingAsrModel } from '../test/support/tiny-asr-model';
import type { BenchRow } from './table';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

const SHARED = process.env.VOICE_SHARED_DIR ?? join(__dirname, '..', '..', 'shared');
const VAD = { model: join(SHARED, 'models', 'vad', 'silero_vad.onnx'), ...VAD_DEFAULTS };
const FRAME = 320;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function vadCost(samples: Float32Array): BenchRow {
  const frames = Math.floor(samples.length / FRAME);
  const ours = new SileroVad(VAD);
  let t0 = performance.now();
  for (let i = 0; i < frames; i++) ours.push(samples.subarray(i * FRAME, (i + 1) * FRAME));
  const oursUs = ((performance.now() - t0) * 1000) / frames;

  const bare = new sherpa.Vad(
    {
      sileroVad: { model: VAD.model, threshold: VAD.threshold, minSpeechDuration: VAD.minSpeech, minSilenceDuration: VAD.minSilence, maxSpeechDuration: VAD.maxSpeech, windowSize: 512 },
      sampleRate: 16000,
      numThreads: 1,
      debug: false,
    },
    30,
  );
  t0 = performance.now();
  for (let i = 0; i + 512 <= samples.length; i += 512) {
    bare.acceptWaveform(samples.subarray(i, i + 512));
    while (!bare.isEmpty()) bare.pop();
  }
  const bareUs = ((performance.now() - t0) * 1000) / frames;
  return { bench: 'asr VAD', metric: 'cost per 20 ms frame (baseline: bare sherpa-onnx Vad)', value: oursUs, unit: 'µs', baseline: bareUs, goal: 'ratio ~1, << 20 000' };
}

async function recogniser(name: string, modelDir: string, samples: Float32Array): Promise<BenchRow[]> {
  const host = new EngineHost({ modulePath: require.resolve('../lib/asr/asr-engine'), name: 'asr', options: { vad: VAD, modelDir } });
  await host.start();
  const rtf: number[] = [];
  const endToFinal: number[] = [];
  let endedAt = 0;
  const onChunk = (c: unknown) => {
    const e = c as AsrEvent;
    if (e.type === 'speech-end') endedAt = performance.now();
    if (e.type !== 'final') return;
    endToFinal.push(performance.now() - endedAt);
    rtf.push(e.computeMs / (((e.end - e.start) / 16000) * 1000));
  };
  for (let i = 0; i + FRAME <= samples.length; i += FRAME) await host.call('audio', samples.slice(i, i + FRAME), { onChunk });
  await host.call('flush', undefined, { onChunk });
  await host.close();
  const bench = `asr ${name}`;
  return [
    { bench, metric: 'recogniser real-time factor (median utterance)', value: median(rtf), unit: 'x', goal: '< 0.3' },
    { bench, metric: 'speech-end → final transcript (median)', value: median(endToFinal), unit: 'ms', goal: '< 300' },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const { samples } = await readWavMono(join(SHARED, 'models', 'testdata', 'silero_vad_test_60s.wav'));
  const rows = [vadCost(samples)];
  const installed = installedModels('asr');
  const scratch = mkdtempSync(join(tmpdir(), 'bench-asr-'));
  try {
    const models = installed.length
      ? installed.map((m) => [m.name, m.path] as const)
      : ([
          ['tiny test model (per utterance)', writeTinyAsrModel(scratch)],
          ['tiny test model (streaming)', writeTinyStreamingAsrModel(scratch)],
        ] as const);
    for (const [name, dir] of models) rows.push(...(await recogniser(name, dir, samples)));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}

if (require.main === module) {
  void run().then(async (rows) => (await import('./table')).printTable(rows));
}
