/**
 * The whole voice loop through the shipped voice-assistant flow in a real
 * Node-RED runtime (tiny models the tests generate, a WAV file as microphone
 * at real-time pace, a WAV file as speaker): per turn, end of speech → final
 * transcript → first LLM chunk → first audio frame → first sample played, as
 * medians over 10 turns. No bare-engine baseline in this table yet: the
 * per-engine benches (asr, llm, tts) hold those ratios. With the WAV speaker
 * the last stage is ~0 ms; on a sound card it adds one to two buffers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEmitter } from 'node:events';
import helper from 'node-red-node-test-helper';
import type { ControlPayload } from '../lib/control/protocol';
import asr from '../nodes/asr/asr';
import llamaLlm from '../nodes/llama-llm/llama-llm';
import micIn from '../nodes/mic-in/mic-in';
import piperTts from '../nodes/piper-tts/piper-tts';
import soundCard from '../nodes/sound-card/sound-card';
import speakerOut from '../nodes/speaker-out/speaker-out';
import voiceprint from '../nodes/voiceprint/voiceprint';
import { TESTDATA } from '../test/support/paths';
import { shippedFlow } from '../test/support/shipped-flow';
import { writeTinyAsrModel } from '../test/support/tiny-asr-model';
import { writeTinyPiperVoice } from '../test/support/tiny-piper-voice';
import { writeTinySpeakerModel } from '../test/support/tiny-speaker-model';
import type { BenchRow } from './table';

const TURNS = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls back with the arrival time of every message a node receives. */
function tap(id: string, on: (msg: Record<string, unknown>, at: number) => void): void {
  (helper.getNode(id) as unknown as EventEmitter).on('input', (msg: Record<string, unknown>) => on(msg, Date.now()));
}

export async function run(): Promise<BenchRow[]> {
  helper.init(require.resolve('node-red'));
  const dir = mkdtempSync(join(tmpdir(), 'bench-loop-'));
  const models = { asrDir: writeTinyAsrModel(dir), voice: writeTinyPiperVoice(dir), speakerModel: writeTinySpeakerModel(dir) };
  const { flow, byType } = shippedFlow(models, join(TESTDATA, 'arctic_aew_a0001.wav'), join(dir, 'spoken.wav'));
  Object.assign(byType('mic-in'), { autoStart: false });
  await helper.load([micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard], flow as never);
  try {
    const turn: Record<string, number> = {};
    tap('tap-asr-control', (m) => {
      const c = m.control as ControlPayload;
      if (c.type === 'speech-end') turn.speechEnd = c.ts;
    });
    tap(byType('llama-llm').id, (m, at) => {
      if (m.topic === 'transcript' && m.partial !== true) turn.transcript ??= at;
    });
    tap(byType('piper-tts').id, (m, at) => {
      if (m.topic === 'llm-chunk') turn.firstChunk ??= at;
    });
    tap(byType('speaker-out').id, (m, at) => {
      if (m.topic === 'audio') turn.firstFrame ??= at;
    });
    tap('tap-speaker-control', (m) => {
      const c = m.control as ControlPayload;
      if (c.type === 'tts-start') turn.played ??= c.ts;
      if (c.type === 'tts-end') turn.ended = c.ts;
    });
    const stages: Record<string, number[]> = { 'end of speech → transcript': [], 'transcript → first LLM chunk': [], 'first chunk → first audio frame': [], 'first frame → first sample played': [], 'end of speech → first sample played': [] };
    for (let i = 0; i < TURNS; i++) {
      for (const k of Object.keys(turn)) delete turn[k];
      helper.getNode(byType('mic-in').id).receive({ payload: 'start' } as never);
      const deadline = Date.now() + 60_000;
      while (!turn.ended && Date.now() < deadline) await sleep(20);
      if (!turn.ended) throw new Error(`turn ${i + 1} did not finish: ${JSON.stringify(turn)}`);
      stages['end of speech → transcript'].push(turn.transcript - turn.speechEnd);
      stages['transcript → first LLM chunk'].push(turn.firstChunk - turn.transcript);
      stages['first chunk → first audio frame'].push(turn.firstFrame - turn.firstChunk);
      stages['first frame → first sample played'].push(turn.played - turn.firstFrame);
      stages['end of speech → first sample played'].push(turn.played - turn.speechEnd);
      await sleep(300);
    }
    return Object.entries(stages).map(([metric, xs]) => ({ bench: 'voice loop (tiny models)', metric: `${metric} (median of ${TURNS})`, value: median(xs), unit: 'ms' }));
  } finally {
    await helper.unload();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void run().then(async (rows) => {
    (await import('./table')).printTable(rows);
    process.exit(0);
  });
}
