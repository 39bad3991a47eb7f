/**
 * The shipped flow with the real models (the joe voice and gemma-3-270m, as
 * scripts/test-models.sh installs them): a typed question → the first sample
 * played, per stage, against the bare engines doing the same work in the same
 * order (BareVoiceLoop.typed(): llama.cpp in-process, Piper in an EngineHost
 * worker, speaker-out's queue and WAV sink; no controller, no Node-RED), each
 * bare turn right after the flow's. See bench/voice-loop.ts for how the marks
 * are taken; here the turn starts as llama-llm receives the typed question.
 * After the first sample the rest of the reply is interrupted ('*'), so a turn
 * costs the time to its first sample, not the whole spoken reply.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeControl } from '../lib/messages/control';
import { GEMMA_LLM, installedModel, JOE_VOICE } from '../test/support/real-models';
import { writeTinyAsrModel } from '../test/support/tiny-asr-model';
import { writeTinySpeakerModel } from '../test/support/tiny-speaker-model';
import { sleep, until } from '../test/support/wait';
import { runAsScript, type BenchRow } from './table';
import { BareVoiceLoop } from './voice-loop-baselines';
import { bareSettings, controlOf, inject, loadFlow, median, micClip, onReceive, onSend, type Models } from './voice-loop';

const TURNS = 5;
const QUESTION = 'What can you tell me about the moon?';
const STAGES = ['typed question → first LLM chunk', 'first chunk → first audio frame', 'first frame → first sample played'] as const;

/** TURNS typed questions through the flow, each followed by the bare turn: per stage, flow and bare milliseconds. */
async function typedTurns(models: Models, mic: string, speakerWav: string, changes: Record<string, Record<string, unknown>>, bare: BareVoiceLoop): Promise<{ flow: number[][]; bare: number[][] }> {
  const ids = await loadFlow(models, mic, speakerWav, changes);
  let turn = '';
  let t: Partial<Record<'asked' | 'chunk' | 'frame' | 'played' | 'ended', number>> = {};
  let said = '';
  onReceive(ids.llm, (m, at) => {
    if (m.turnId === turn && m.payload === QUESTION) t.asked ??= at;
  });
  onReceive(ids.tts, (m, at) => {
    if (m.topic !== 'llm-chunk' || m.turnId !== turn || t.chunk !== undefined) return;
    t.chunk = at;
    said = m.payload as string;
  });
  onReceive(ids.speaker, (m, at) => {
    if (m.topic === 'audio' && m.turnId === turn) t.frame ??= at;
  });
  onSend(ids.speaker, (m, at) => {
    const c = controlOf(m);
    if (c?.turnId !== turn) return;
    if (c.type === 'tts-start') t.played = at;
    if (c.type === 'tts-end') t.ended = at;
  });
  const flow: number[][] = STAGES.map(() => []);
  const bareMs: number[][] = STAGES.map(() => []);
  try {
    for (let i = 0; i < TURNS; i++) {
      t = {};
      turn = `typed-${i}`;
      inject(ids.llm, { topic: 'reset' });
      inject(ids.llm, { payload: QUESTION, turnId: turn });
      await until(() => t.played !== undefined, 300_000, `turn ${i + 1} to be spoken`);
      const stop = makeControl('interrupt', '*', { reason: 'user' });
      for (const id of [ids.llm, ids.tts, ids.speaker]) inject(id, { ...stop });
      await until(() => t.ended !== undefined, 30_000, `turn ${i + 1} to stop`);
      const { asked, chunk, frame, played } = t as Required<typeof t>;
      [chunk - asked, frame - chunk, played - frame].forEach((ms, s) => flow[s].push(ms));
      const same = await bare.typed(QUESTION);
      // The steps compare only if both answered the same words.
      if (same.firstChunk !== said) throw new Error(`turn ${i + 1}: the flow's first chunk was "${said}", the bare one "${same.firstChunk}"`);
      same.ms.forEach((ms, s) => bareMs[s].push(ms));
      await sleep(300);
    }
  } finally {
    await helper.unload();
  }
  return { flow, bare: bareMs };
}

export async function run(): Promise<BenchRow[]> {
  const voice = installedModel(JOE_VOICE);
  const llm = installedModel(GEMMA_LLM);
  if (!voice || !llm) {
    process.stderr.write(`voice-loop-real: skipped: no model (${[!voice && JOE_VOICE, !llm && GEMMA_LLM].filter(Boolean).join(', ')}; run: bash scripts/test-models.sh)\n`);
    return [];
  }
  helper.init(require.resolve('node-red'));
  const dir = mkdtempSync(join(tmpdir(), 'bench-loop-real-'));
  try {
    // Nobody speaks: the recogniser and speaker model are the tiny stand-ins.
    const models = { asrDir: writeTinyAsrModel(dir), voice: join(voice, 'voice.onnx'), speakerModel: writeTinySpeakerModel(dir) };
    // The WAV speaker at the voice's rate, as the bare sink plays it: neither side resamples.
    const voiceRate = (JSON.parse(readFileSync(`${models.voice}.json`, 'utf8')) as { audio: { sample_rate: number } }).audio.sample_rate;
    const changes = { 'llama-llm': { modelPath: join(llm, 'model.gguf'), threads: 0, contextSize: 2048, maxTokens: 60 }, 'speaker-out': { wavRate: voiceRate } };
    const mic = await micClip(dir);
    const bare = await BareVoiceLoop.start(bareSettings(models, mic, dir, changes).settings);
    const stages = await typedTurns(models, mic.path, join(dir, 'spoken.wav'), changes, bare).finally(() => bare.close());
    const bench = `voice loop (${JOE_VOICE}, ${GEMMA_LLM})`;
    const goal = 'ratio <= 1.15';
    const baselines = stages.bare.map(median);
    const total = stages.flow[0].map((_, i) => stages.flow.reduce((a, s) => a + s[i], 0));
    return [
      ...STAGES.map((metric, s) => ({ bench, metric: `${metric} (median of ${TURNS})`, value: median(stages.flow[s]), unit: 'ms', baseline: baselines[s], goal })),
      { bench, metric: `typed question → first sample played (median of ${TURNS})`, value: median(total), unit: 'ms', baseline: baselines.reduce((a, b) => a + b, 0), goal },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runAsScript(module, run);
