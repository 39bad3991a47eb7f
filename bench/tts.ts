/**
 * piper-tts: time to the first audio frame for a 10-word sentence and the
 * real-time factor, through the node's path (worker + phonemizer + framing)
 * versus the bare onnxruntime session on the same ids, in the same process.
 * Uses a real Piper voice from $VOICE_MODELS_DIR when installed, else the
 * tiny Piper-shaped test voice. With a real voice and the test virtualenv
 * (scripts/test-models.sh), also against the official Piper (piper-tts 1.8.0,
 * Python) speaking the same sentence in the same run: once on the node's one
 * onnxruntime thread, once on Piper's default threads.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { EngineHost } from '../lib/engine/host';
import { phonemeIds } from '../lib/tts/phoneme-ids';
import type { SentenceAudio } from '../lib/tts/piper-engine';
import { phonemize } from '../lib/tts/phonemize';
import { TtsController } from '../nodes/piper-tts/controller';
import { officialPiperPython, officialPiperTiming } from '../test/support/piper-reference';
import { EN_US_VOICES, firstInstalled } from '../test/support/real-models';
import { writeTinyPiperVoice } from '../test/support/tiny-piper-voice';
import type { BenchRow } from './table';

const SENTENCE = 'Please turn on the lights in the kitchen right now.';
const RUNS = 10;
/** piper-tts's default (nodes/piper-tts/config.ts). */
const NODE_THREADS = 1;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(): Promise<BenchRow[]> {
  const real = firstInstalled(EN_US_VOICES);
  const scratch = mkdtempSync(join(tmpdir(), 'bench-tts-'));
  const voice = real ? join(real.dir, 'voice.onnx') : writeTinyPiperVoice(scratch);
  const label = `tts (${real ? real.name : 'tiny test voice'})`;
  const config = JSON.parse(readFileSync(`${voice}.json`, 'utf8'));

  // Bare engine, on this thread: espeak-ng phonemes, ids, one onnxruntime run.
  const session = await ort.InferenceSession.create(voice, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const bareMs: number[] = [];
  const phonemizeMs: number[] = [];
  let audioMs = 0;
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const [{ phonemes }] = await phonemize(SENTENCE, config.espeak.voice);
    const t1 = performance.now();
    const { ids } = phonemeIds(phonemes, config.phoneme_id_map);
    const out = await session.run({
      input: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
      scales: new ort.Tensor('float32', Float32Array.from([0.667, 1, 0.8]), [3]),
    });
    if (i > 0) phonemizeMs.push(t1 - t0);
    if (i > 0) bareMs.push(performance.now() - t0);
    audioMs = ((out[session.outputNames[0]].data as Float32Array).length / config.audio.sample_rate) * 1000;
  }
  await session.release();

  // Node path: controller → worker engine (phonemize + run) → 20 ms frames, on the node's default thread count.
  const host = new EngineHost({ modulePath: require.resolve('../lib/tts/piper-engine'), name: 'tts', options: { modelPath: voice, threads: NODE_THREADS } });
  await host.start();
  const firstFrame: number[] = [];
  const rtf: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    let metrics: { first_audio_ms: number; rtf: number } | undefined;
    const controller = new TtsController(
      (request, { signal, onSentence }) => host.call('synthesize', request, { signal, onChunk: (c) => onSentence(c as SentenceAudio) }),
      { frameMs: 20, maxChars: 20_000, synth: { sentenceSilence: 0 } },
      { audio: () => undefined, control: () => undefined, status: () => undefined, warn: () => undefined, metrics: (m) => (metrics = m.payload as typeof metrics) },
    );
    await controller.handle({ payload: SENTENCE, turnId: `b-${i}` });
    if (i > 0 && metrics) {
      firstFrame.push(metrics.first_audio_ms);
      rtf.push(metrics.rtf);
    }
  }
  await host.close();
  rmSync(scratch, { recursive: true, force: true });
  const official = real && officialPiperPython() ? await againstOfficial(label, voice, median(firstFrame), median(rtf)) : [];
  if (real && !official.length) process.stderr.write('tts: no official Piper to compare with (run: bash scripts/test-models.sh)\n');

  return [
    ...official,
    { bench: label, metric: 'espeak-ng phonemes, 10 words (median)', value: median(phonemizeMs), unit: 'ms' },
    { bench: label, metric: 'first audio frame, 10 words (median)', value: median(firstFrame), unit: 'ms', baseline: median(bareMs), goal: 'vs bare phonemize+run' },
    { bench: label, metric: 'real-time factor (synth / audio)', value: median(rtf), unit: 'x', baseline: median(bareMs) / audioMs, goal: '< 1' },
  ];
}

/** The official Piper on the same sentence, after our runs (so both meet the same warm machine). */
async function againstOfficial(label: string, voice: string, firstFrame: number, rtf: number): Promise<BenchRow[]> {
  const same = await officialPiperTiming(voice, SENTENCE, RUNS, NODE_THREADS);
  const own = await officialPiperTiming(voice, SENTENCE, RUNS);
  return [
    { bench: label, metric: `first audio, node vs official Piper 1.8.0 (${NODE_THREADS} thread, median)`, value: firstFrame, unit: 'ms', baseline: median(same.firstAudioMs), goal: 'ratio <= 1.0' },
    { bench: label, metric: `real-time factor, node vs official Piper (${NODE_THREADS} thread)`, value: rtf, unit: 'x', baseline: median(same.rtf), goal: 'ratio <= 1.0' },
    { bench: label, metric: "first audio, node vs official Piper on its default threads", value: firstFrame, unit: 'ms', baseline: median(own.firstAudioMs) },
    { bench: label, metric: 'real-time factor, node vs official Piper on its default threads', value: rtf, unit: 'x', baseline: median(own.rtf) },
  ];
}

if (require.main === module) {
  void run().then(async (rows) => (await import('./table')).printTable(rows));
}
