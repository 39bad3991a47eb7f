/**
 * Wyoming text to speech: time from the official client's `synthesize` to
 * its first `audio-chunk`, from our server (wyoming-in → piper-tts's
 * controller and engine worker → wyoming-out, as the nodes wire them) versus
 * wyoming-piper 2.5.2 serving the same joe voice (test virtualenv), measured
 * in the same run, alternately, by the same client (test/support/wyoming_client.py).
 * Needs the joe voice and the test virtualenv (bash scripts/test-models.sh).
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { EngineHost } from '../lib/engine/host';
import type { SentenceAudio } from '../lib/tts/piper-engine';
import { SERVER_DEFAULTS, WyomingServer } from '../lib/wyoming/server';
import { DEFAULTS as TTS } from '../nodes/piper-tts/config';
import { TtsController } from '../nodes/piper-tts/controller';
import { installedModel, JOE_VOICE } from '../test/support/real-models';
import { wyoming } from '../test/support/wyoming-client';
import { startWyomingPiper, WYOMING_PIPER, wyomingPiperPython } from '../test/support/wyoming-piper';
import { runAsScript, type BenchRow } from './table';

const SENTENCE = 'Please turn on the lights in the kitchen right now.';
const RUNS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Our server with piper-tts behind it, on the node's default settings but for its onnxruntime threads. */
async function ourServer(voice: string, threads: number): Promise<{ port: number; firstFrames: number[]; close: () => Promise<void> }> {
  const host = new EngineHost({ modulePath: require.resolve('../lib/tts/piper-engine'), name: 'tts', options: { modelPath: voice, threads } });
  await host.start();
  const server = new WyomingServer({ ...SERVER_DEFAULTS, port: 0, host: '127.0.0.1', services: ['tts'] });
  // piper-tts's own figure for each request: from the text's arrival to its first frame.
  const firstFrames: number[] = [];
  const tts = new TtsController(
    (request, { signal, onSentence }) => host.call('synthesize', request, { signal, onChunk: (c) => onSentence(c as SentenceAudio) }),
    { frameMs: TTS.frameMs, maxChars: 20_000, synth: { lengthScale: TTS.lengthScale, noiseScale: TTS.noiseScale, noiseW: TTS.noiseW, speakerId: TTS.speakerId, sentenceSilence: TTS.sentenceSilence } },
    { audio: (m) => server.answer(m), control: () => undefined, metrics: (m) => firstFrames.push((m.payload as { first_audio_ms: number }).first_audio_ms), status: () => undefined, warn: () => undefined },
  );
  server.listen('tts', (m) => void tts.handle(m));
  const port = await server.start();
  return {
    port,
    firstFrames,
    close: async () => {
      tts.close();
      await server.close();
      await host.close();
    },
  };
}

export async function run(): Promise<BenchRow[]> {
  const joe = installedModel(JOE_VOICE);
  const python = wyomingPiperPython();
  if (!joe || !python) {
    process.stderr.write(`wyoming: skipped (${!joe ? `no model ${JOE_VOICE}` : `no ${WYOMING_PIPER}`}; run: bash scripts/test-models.sh)\n`);
    return [];
  }
  // piper-tts's default (one onnxruntime thread, leaving the other cores to asr and the LLM), and as many as wyoming-piper uses (onnxruntime's default: every core).
  const ours = await ourServer(join(joe, 'voice.onnx'), TTS.threads);
  const oursAllCores = await ourServer(join(joe, 'voice.onnx'), cpus().length);
  const theirs = await startWyomingPiper(python, joe, 'en_US-joe-medium');
  const servers = { ours, oursAllCores, theirs };
  const first: Record<keyof typeof servers, number[]> = { ours: [], oursAllCores: [], theirs: [] };
  try {
    for (let i = 0; i <= RUNS; i++) {
      for (const who of Object.keys(servers) as Array<keyof typeof servers>) {
        const r = await wyoming<{ first_chunk_ms: number }>(python, servers[who].port, { do: 'synthesize', text: SENTENCE });
        if (i > 0) first[who].push(r.first_chunk_ms); // the first run of each warms up
      }
    }
  } finally {
    await ours.close();
    await oursAllCores.close();
    await theirs.stop();
  }
  const row = (threads: string, value: number): BenchRow => ({
    bench: 'wyoming (joe)',
    metric: `synthesize → first audio-chunk, 10 words, piper-tts on ${threads} vs ${WYOMING_PIPER} (median of ${RUNS})`,
    value,
    unit: 'ms',
    baseline: median(first.theirs),
    goal: 'ratio <= 1.0',
  });
  return [
    row(`${TTS.threads} thread (default)`, median(first.ours)),
    row(`${cpus().length} threads (as theirs)`, median(first.oursAllCores)),
    {
      bench: 'wyoming (joe)',
      metric: `the same requests at the client vs piper-tts's own first frame (the Wyoming layer's share, ${TTS.threads} thread)`,
      value: median(first.ours),
      unit: 'ms',
      baseline: median(ours.firstFrames.slice(1)),
    },
  ];
}

runAsScript(module, run);
