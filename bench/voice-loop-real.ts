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
 *
 * Then spoken turns with the real recogniser too (Whisper tiny.en, converted
 * by scripts/test-models.sh): the whole sentences of the end-of-turn test set
 * (test/lib/turn/turn-clips.ts: shared clips with their recordings' noise
 * floor, 3 s of it after the speech) played by mic-in at real-time pace, per
 * stage median and p90, once with the asr node's end of turn by silence only
 * (the baseline) and once by the turn model (Smart Turn v3), one after the
 * other in the same run. Marks (performance.now() as a node sends or
 * receives): the last word = mic-in sends the frame that holds its end; the
 * end-of-turn decision = asr sends speech-end; final transcript = llama-llm
 * receives it; prompt build and first token = llama-llm's own metrics
 * (build_prompt_ms, first_token_latency_total_ms: from the transcript's
 * arrival); first clause = piper-tts receives the first chunk; first audio
 * frame = speaker-out receives it; first sample played = speaker-out's
 * tts-start. Here only piper-tts and speaker-out are interrupted after the
 * first sample: the LLM finishes its reply (maxTokens), so that it sends its
 * metrics.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeControl } from '../lib/messages/control';
import { encodeWav } from '../lib/audio/wav';
import { GEMMA_LLM, installedModel, JOE_VOICE, SMART_TURN } from '../test/support/real-models';
import { turnClips } from '../test/lib/turn/turn-clips';
import { writeTinyAsrModel } from '../test/support/tiny-asr-model';
import { writeTinySpeakerModel } from '../test/support/tiny-speaker-model';
import { sleep, until } from '../test/support/wait';
import { runAsScript, type BenchRow } from './table';
import { BareVoiceLoop } from './voice-loop-baselines';
import { bareSettings, controlOf, inject, loadFlow, median, micClip, onReceive, onSend, type Models } from './voice-loop';

const WHISPER = 'asr-whisper-tiny-en';
const SPOKEN_TURNS = 10;
const SPOKEN = [
  'last word → end-of-turn decision',
  'decision → final transcript',
  'prompt build',
  'transcript → first token',
  'transcript → first clause',
  'first clause → first audio frame',
  'first frame → first sample played',
  'last word → first sample played',
] as const;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)];

/**
 * SPOKEN_TURNS spoken turns (the clips in turn) through the flow with the
 * asr node's end of turn set to `endOfTurn`: per stage, its duration in each turn.
 */
async function spokenTurns(models: Models, dir: string, changes: Record<string, Record<string, unknown>>, endOfTurn: 'silence' | 'turn-model'): Promise<{ ms: number[][]; endedBy: string[] }> {
  const clips = (await turnClips(3)).filter((c) => c.complete);
  const mic = join(dir, 'spoken-mic.wav');
  writeFileSync(mic, encodeWav(clips[0].audio, 16000));
  const ids = await loadFlow(models, mic, join(dir, 'spoken-speaker.wav'), { ...changes, asr: { ...changes.asr, endOfTurn } });
  type Mark = 'lastWord' | 'decision' | 'transcript' | 'clause' | 'frame' | 'played' | 'ended' | 'micDone';
  let t: Partial<Record<Mark, number>> = {};
  let frames: number[] = [];
  let turn: string | undefined;
  let llm: { build_prompt_ms: number; first_token_latency_total_ms: number } | undefined;
  let endedBy = '';
  onSend(ids.mic, (m, at) => {
    if (m.flush === true) t.micDone = at;
    else if (m.audio) frames.push(at);
  });
  onSend(ids.asr, (m, at) => {
    if (controlOf(m)?.type === 'speech-end') {
      turn = controlOf(m)!.turnId;
      t = { ...t, decision: at, transcript: undefined, clause: undefined, frame: undefined, played: undefined };
    }
    if (m.topic === 'metrics' && m.turnId === turn) endedBy = (m.payload as { ended_by: string }).ended_by;
  });
  onReceive(ids.llm, (m, at) => {
    if (m.topic === 'transcript' && m.partial === false && m.turnId === turn) t.transcript ??= at;
  });
  onSend(ids.llm, (m) => {
    if (m.topic === 'metrics' && m.turnId === turn) llm = m.payload as typeof llm;
  });
  onReceive(ids.tts, (m, at) => {
    if (m.topic === 'llm-chunk' && m.turnId === turn) t.clause ??= at;
  });
  onReceive(ids.speaker, (m, at) => {
    if (m.topic === 'audio' && m.turnId === turn) t.frame ??= at;
  });
  onSend(ids.speaker, (m, at) => {
    const c = controlOf(m);
    if (c?.turnId !== turn) return;
    if (c?.type === 'tts-start') t.played ??= at;
    if (c?.type === 'tts-end') t.ended = at;
  });
  const ms: number[][] = SPOKEN.map(() => []);
  const ended: string[] = [];
  try {
    for (let i = 0; i < SPOKEN_TURNS; i++) {
      const clip = clips[i % clips.length];
      writeFileSync(mic, encodeWav(clip.audio, 16000));
      t = {};
      frames = [];
      turn = llm = undefined;
      inject(ids.llm, { topic: 'reset' });
      inject(ids.mic, { payload: 'start' });
      await until(() => t.played !== undefined && t.micDone !== undefined, 120_000, `spoken turn ${i + 1} (${clip.name}) to be answered`);
      const stop = makeControl('interrupt', '*', { reason: 'user' });
      for (const id of [ids.tts, ids.speaker]) inject(id, { ...stop });
      await until(() => t.ended !== undefined && llm !== undefined, 60_000, `spoken turn ${i + 1} to stop and the LLM's metrics`);
      // The frame that holds the last word's end left mic-in when the user had said it.
      const lastWord = frames[Math.floor((clip.lastWord - 1) / 320)];
      const { decision, transcript, clause, frame, played } = t as Required<typeof t>;
      const row = [decision - lastWord, transcript - decision, llm!.build_prompt_ms, llm!.first_token_latency_total_ms, clause - transcript, frame - clause, played - frame, played - lastWord];
      row.forEach((x, s) => ms[s].push(x));
      ended.push(endedBy);
      await sleep(300);
    }
  } finally {
    await helper.unload();
  }
  return { ms, endedBy: ended };
}

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
    const typed: BenchRow[] = [];
    if (!process.env.VOICE_LOOP_SPOKEN_ONLY) {
      const stages = await typedTurns(models, mic.path, join(dir, 'spoken.wav'), changes, bare).finally(() => bare.close());
      const bench = `voice loop (${JOE_VOICE}, ${GEMMA_LLM})`;
      const goal = 'ratio <= 1.15';
      const baselines = stages.bare.map(median);
      const total = stages.flow[0].map((_, i) => stages.flow.reduce((a, s) => a + s[i], 0));
      typed.push(
        ...STAGES.map((metric, s) => ({ bench, metric: `${metric} (median of ${TURNS})`, value: median(stages.flow[s]), unit: 'ms', baseline: baselines[s], goal })),
        { bench, metric: `typed question → first sample played (median of ${TURNS})`, value: median(total), unit: 'ms', baseline: baselines.reduce((a, b) => a + b, 0), goal },
      );
    } else await bare.close();
    return [...typed, ...(await spokenRows(dir, models, changes))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Spoken turns, silence only (the baseline) then the turn model: median and p90 of each stage. */
async function spokenRows(dir: string, tiny: Models, changes: Record<string, Record<string, unknown>>): Promise<BenchRow[]> {
  const whisper = installedModel(WHISPER);
  const turnModel = installedModel(SMART_TURN);
  if (!whisper || !turnModel) {
    process.stderr.write(`voice-loop-real: spoken turns skipped: no model (${[!whisper && WHISPER, !turnModel && SMART_TURN].filter(Boolean).join(', ')}; run: bash scripts/test-models.sh)\n`);
    return [];
  }
  const models = { ...tiny, asrDir: whisper };
  // The order alternates between runs of the bench on request (the first run also warms the page cache and the JIT).
  const modelFirst = process.env.VOICE_LOOP_TURN_MODEL_FIRST === '1';
  const byModel0 = modelFirst ? await spokenTurns(models, dir, changes, 'turn-model') : undefined;
  const bySilence = await spokenTurns(models, dir, changes, 'silence');
  const byModel = byModel0 ?? (await spokenTurns(models, dir, changes, 'turn-model'));
  const count = (ended: string[]) => Object.entries(ended.reduce<Record<string, number>>((n, e) => ({ ...n, [e]: (n[e] ?? 0) + 1 }), {})).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stderr.write(`voice-loop-real: spoken turns ended by: silence only: ${count(bySilence.endedBy)}; turn model: ${count(byModel.endedBy)} (${modelFirst ? 'turn model' : 'silence only'} ran first)\n`);
  process.stderr.write(`voice-loop-real: last word → decision per turn, turn model: ${byModel.ms[0].map((ms, i) => `${Math.round(ms)} ${byModel.endedBy[i]}`).join(', ')}\n`);
  const bench = `spoken turns (${WHISPER}, ${GEMMA_LLM}, ${JOE_VOICE}), turn model vs silence only`;
  return SPOKEN.flatMap((metric, s) => [
    { bench, metric: `${metric} (median of ${SPOKEN_TURNS})`, value: median(byModel.ms[s]), unit: 'ms', baseline: median(bySilence.ms[s]) },
    { bench, metric: `${metric} (p90 of ${SPOKEN_TURNS})`, value: p90(byModel.ms[s]), unit: 'ms', baseline: p90(bySilence.ms[s]) },
  ]);
}

runAsScript(module, run);
