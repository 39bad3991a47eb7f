/**
 * The whole voice loop through the shipped voice-assistant flow in a real
 * Node-RED runtime (tiny models the tests generate, a WAV file as microphone
 * at real-time pace, a WAV file as speaker), each step against the bare
 * engines doing the same work in the same order on the same input
 * (bench/voice-loop-baselines.ts: the engine modules on the threads the nodes
 * run them on, an EngineHost worker for asr and Piper, llama.cpp in-process,
 * but no controller, no Node-RED; same models and settings). The ratio is
 * what our plumbing adds. The bare turn runs right after each flow turn, so
 * both meet the same load of a shared machine.
 *
 * Per turn, median of 10; marks taken with performance.now() as a node sends
 * a message, or receives one (before it handles it):
 * - end of speech (asr sends speech-end) → final transcript (llama-llm
 *   receives it). Bare: the asr engine's speech-end → final as they reach
 *   this thread, the same clip fed at the same real-time pace;
 * - → first LLM chunk (piper-tts receives it). Bare: the llama engine, same
 *   prompt, until the node's sentence chunker has its first chunk (checked to
 *   be the flow's first chunk, word for word);
 * - → first audio frame (speaker-out receives it). Bare: the Piper engine's
 *   first audio for that chunk, handed to it the moment the chunker had it,
 *   while the LLM goes on decoding the rest of the reply, as in the flow. On
 *   a 2-core machine the two contend: Piper's first audio often takes twice
 *   what it takes with the LLM idle (the diagnostics print both). A baseline
 *   that ran Piper alone after the LLM charged that contention, which is not
 *   plumbing, to the flow;
 * - → first sample played (speaker-out sends tts-start). Bare: speaker-out's
 *   playback queue and WAV sink taking the first frame, given it when the
 *   first audio arrives (the LLM and Piper may still be working). Well under
 *   1 ms either way; a sound card adds one or two buffers that no plumbing
 *   can save;
 * - end of speech → first sample played. Baseline: the sum of the bare steps.
 * Barge-in, median of 10: the user speaks while a long reply plays; from the
 * mic frame holding the speech onset to speaker-out's tts-end (cut). Bare: the
 * VAD's onset → speech-start on that audio at real-time pace, plus the
 * playback queue's cancel → turn ended.
 *
 * Not in the bare turn: the rest of the flow's live mic (voiceprint and the
 * asr VAD go on hearing the clip's trailing silence, a frame per 20 ms, while
 * the LLM and Piper work), and the nodes' status and metrics messages.
 *
 * Diagnostics (stderr, not in the table), flow and bare side by side: where
 * end of speech → final transcript goes (the asr controller, the engine's
 * speech-end → final as they reach this thread, the controller and Node-RED
 * up to llama-llm), and first chunk → first audio frame (piper-tts's
 * controller up to its engine call, Piper's own time in its worker, the
 * EngineHost hop, the controller's framing up to the first frame sent,
 * Node-RED's delivery of it to speaker-out; Piper alone with the LLM idle;
 * how long the LLM decodes on). The flow's engine marks come from wrapping
 * EngineHost.prototype.call (the bare hosts' calls too: a closure per call
 * and one per chunk, µs, both sides alike).
 *
 * The mic clip is a spoken sentence and 1 s of silence, so the VAD ends each
 * utterance on silence, as with a live speaker. (A recording that stops in
 * mid-speech leaves the VAD sure of speech: the next one starts with a
 * speech-start at its first frame, even in silence.) Each turn starts a fresh
 * conversation, so its prompt is the bare engine's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import type { AsrEvent } from '../lib/asr/asr-engine';
import { SPEECH_RATE } from '../lib/audio/format';
import { encodeWav, readWavMono } from '../lib/audio/wav';
import { makeControl, type ControlPayload } from '../lib/messages/control';
import { EngineHost, type CallOptions } from '../lib/engine/host';
import { migrate, type Migration } from '../lib/nodered/migrate';
import asr from '../nodes/asr/asr';
import { MIGRATIONS as ASR_MIGRATIONS, type AsrConfig } from '../nodes/asr/config';
import { controllerSettings, MIGRATIONS as LLM_MIGRATIONS, type LlamaLlmConfig } from '../nodes/llama-llm/config';
import { defaultThreads } from '../lib/llm/cpu-cores';
import llamaLlm from '../nodes/llama-llm/llama-llm';
import { MIGRATIONS as MIC_MIGRATIONS, type MicInConfig } from '../nodes/mic-in/config';
import micIn from '../nodes/mic-in/mic-in';
import { MIGRATIONS as TTS_MIGRATIONS, type PiperTtsConfig } from '../nodes/piper-tts/config';
import piperTts from '../nodes/piper-tts/piper-tts';
import soundCard from '../nodes/sound-card/sound-card';
import { MIGRATIONS as SPEAKER_MIGRATIONS, type SpeakerOutConfig } from '../nodes/speaker-out/config';
import speakerOut from '../nodes/speaker-out/speaker-out';
import voiceprint from '../nodes/voiceprint/voiceprint';
import { TESTDATA } from '../test/support/paths';
import { shippedFlow } from '../test/support/shipped-flow';
import { writeTinyAsrModel } from '../test/support/tiny-asr-model';
import { writeTinyPiperVoice } from '../test/support/tiny-piper-voice';
import { writeTinySpeakerModel } from '../test/support/tiny-speaker-model';
import { sleep, until } from '../test/support/wait';
import { runAsScript, type BenchRow } from './table';
import { BareVoiceLoop, queueCancel, vadOnset, type BareSettings, type BareTurn } from './voice-loop-baselines';

const TURNS = 10;
const NODES = [micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard];
/** speaker-out's WAV sink plays 20 ms buffers. */
const SINK_BUFFER_MS = 20;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

type Msg = Record<string, unknown>;
type Watch = (msg: Msg, at: number) => void;
export type Models = Parameters<typeof shippedFlow>[0];

/** Calls `watch` for every message the node receives, before the node sees it. */
export function onReceive(id: string, watch: Watch): void {
  const node = helper.getNode(id) as unknown as { receive(msg: Msg): void };
  const receive = node.receive.bind(node);
  node.receive = (msg) => {
    watch(msg, performance.now());
    receive(msg);
  };
}

/** Calls `watch` for every message the node sends, as it sends it. */
export function onSend(id: string, watch: Watch): void {
  const node = helper.getNode(id) as unknown as { send(out: unknown): void };
  const send = node.send.bind(node);
  node.send = (out) => {
    const at = performance.now();
    for (const msg of [out].flat(2)) if (msg) watch(msg as Msg, at);
    send(out);
  };
}

export const controlOf = (msg: Msg) => msg.control as ControlPayload | undefined;
export const inject = (id: string, msg: Msg) => helper.getNode(id).receive(msg as never);

/** Writes the mic clip: a spoken sentence, then 1 s of silence. Returns its path and samples as the flow will hear them. */
export async function micClip(dir: string): Promise<{ path: string; samples: Float32Array }> {
  const speech = (await readWavMono(join(TESTDATA, 'arctic_aew_a0001.wav'))).samples;
  const padded = new Float32Array(speech.length + SPEECH_RATE);
  padded.set(speech);
  const path = join(dir, 'mic.wav');
  writeFileSync(path, encodeWav(padded, SPEECH_RATE));
  return { path, samples: (await readWavMono(path)).samples };
}

type Ids = Record<'mic' | 'asr' | 'llm' | 'tts' | 'speaker', string>;

/** Loads the shipped flow, its mic waiting for "start", with `changes` to its nodes' settings; returns their ids. */
export async function loadFlow(models: Models, mic: string, speakerWav: string, changes: Record<string, Msg> = {}): Promise<Ids> {
  const { flow, byType } = shippedFlow(models, mic, speakerWav);
  Object.assign(byType('mic-in'), { autoStart: false });
  for (const [type, settings] of Object.entries(changes)) Object.assign(byType(type), settings);
  await helper.load(NODES, flow as never);
  const id = (type: string) => byType(type).id;
  return { mic: id('mic-in'), asr: id('asr'), llm: id('llama-llm'), tts: id('piper-tts'), speaker: id('speaker-out') };
}

const STAGES = ['end of speech → final transcript', 'transcript → first LLM chunk', 'first chunk → first audio frame', 'first frame → first sample played'] as const;

/**
 * TURNS spoken turns through the shipped flow, each followed by the same turn
 * on the bare engines: per stage, its duration in each turn, flow and bare.
 */
async function turns(models: Models, mic: string, speakerWav: string, bare: BareVoiceLoop): Promise<{ flow: number[][]; bare: number[][]; notes: Notes }> {
  const ids = await loadFlow(models, mic, speakerWav);
  let turn: string | undefined;
  type Mark = 'endBack' | 'finalBack' | 'speechEnd' | 'transcript' | 'chunk' | 'lastChunk' | 'engineCall' | 'sentenceBack' | 'piperInWorker' | 'ttsSent' | 'frame' | 'played' | 'ended' | 'micDone';
  let t: Partial<Record<Mark, number>> = {};
  onSend(ids.asr, (m, at) => {
    if (controlOf(m)?.type !== 'speech-end') return;
    turn = controlOf(m)!.turnId;
    t.speechEnd = at;
  });
  let heard = '';
  onReceive(ids.llm, (m, at) => {
    if (m.topic !== 'transcript' || m.partial !== false || m.turnId !== turn || t.transcript !== undefined) return;
    t.transcript = at;
    heard = m.payload as string;
  });
  let said = '';
  onReceive(ids.tts, (m, at) => {
    if (m.topic !== 'llm-chunk' || m.turnId !== turn) return;
    if (t.chunk === undefined) said = m.payload as string;
    t.chunk ??= at;
    if (m.complete === true) t.lastChunk = at;
  });
  const unwatch = onEngineCalls((host, calledAt, chunks, result) => {
    if (host === 'asr') {
      // The asr events as they reach this thread, before the asr controller has them.
      for (const [at, e] of chunks as [number, AsrEvent][]) {
        if (e.type === 'speech-end') t.endBack = at;
        if (e.type === 'final' && t.endBack !== undefined) t.finalBack ??= at;
      }
    }
    // piper-tts's first engine call after the first chunk came in: that chunk's.
    if (host !== 'piper-tts' || t.chunk === undefined || calledAt < t.chunk || t.engineCall !== undefined) return;
    Object.assign(t, { engineCall: calledAt, sentenceBack: chunks[0]?.[0], piperInWorker: (result as { firstAudioMs: number }).firstAudioMs });
  });
  let framesAhead = 0;
  onSend(ids.tts, (m, at) => {
    if (m.topic !== 'audio' || m.turnId !== turn) return;
    t.ttsSent ??= at;
    if (t.frame === undefined) framesAhead++;
  });
  onReceive(ids.speaker, (m, at) => {
    if (m.topic === 'audio' && m.turnId === turn) t.frame ??= at;
  });
  onSend(ids.speaker, (m, at) => {
    const c = controlOf(m);
    if (!c || c.turnId !== turn) return;
    if (c.type === 'tts-start') t.played = at;
    if (c.type === 'tts-end') t.ended = at;
  });
  onSend(ids.mic, (m, at) => {
    if (m.flush === true) t.micDone = at;
  });
  const stages: number[][] = STAGES.map(() => []);
  const bareStages: number[][] = STAGES.map(() => []);
  const notes: Notes = { flow: [], bare: [] };
  try {
    for (let i = 0; i < TURNS; i++) {
      t = {};
      turn = undefined;
      framesAhead = 0;
      inject(ids.llm, { topic: 'reset' });
      inject(ids.mic, { payload: 'start' });
      await until(() => t.ended !== undefined && t.micDone !== undefined, 60_000, `turn ${i + 1} to be answered`);
      const { endBack, finalBack, speechEnd, transcript, chunk, lastChunk, engineCall, sentenceBack, piperInWorker, ttsSent, frame, played } = t as Required<typeof t>;
      [transcript - speechEnd, chunk - transcript, frame - chunk, played - frame].forEach((ms, s) => stages[s].push(ms));
      notes.flow.push({
        endToSend: speechEnd - endBack,
        endToFinal: finalBack - endBack,
        finalToLlm: transcript - finalBack,
        toEngine: engineCall - chunk,
        piperInWorker,
        hostHop: sentenceBack - engineCall - piperInWorker,
        toFirstFrameSent: ttsSent - sentenceBack,
        toSpeaker: frame - ttsSent,
        framesAhead,
        llmAfterFirstChunk: lastChunk - chunk,
      });
      const same = await bare.turn();
      // The LLM and TTS steps compare only if both answered the same words.
      if (same.transcript !== heard) throw new Error(`turn ${i + 1}: the flow heard "${heard}", the bare asr engine "${same.transcript}"`);
      if (same.firstChunk !== said) throw new Error(`turn ${i + 1}: the flow's first chunk was "${said}", the bare one "${same.firstChunk}"`);
      same.ms.forEach((ms, s) => bareStages[s].push(ms));
      notes.bare.push({ ...same.notes, asr: same.ms[0] });
      await sleep(300);
    }
  } finally {
    unwatch();
    await helper.unload();
  }
  return { flow: stages, bare: bareStages, notes };
}

/**
 * Calls `watch` as each EngineHost call settles, with the host's name, when
 * the call was made, when each chunk reached this thread, and its result.
 * Returns the undo.
 */
function onEngineCalls(watch: (host: string, calledAt: number, chunks: [at: number, chunk: unknown][], result: unknown) => void): () => void {
  const proto = EngineHost.prototype;
  const call = proto.call;
  proto.call = function (this: EngineHost, method: string, payload?: unknown, options: CallOptions = {}) {
    const host = (this as unknown as { name: string }).name;
    const calledAt = performance.now();
    const chunks: [number, unknown][] = [];
    const onChunk = (chunk: unknown) => {
      chunks.push([performance.now(), chunk]);
      options.onChunk?.(chunk);
    };
    const settled = call.call(this, method, payload, { ...options, onChunk });
    settled.then((result) => watch(host, calledAt, chunks, result), () => undefined);
    return settled;
  } as typeof call;
  return () => {
    proto.call = call;
  };
}

type FlowNote = 'endToSend' | 'endToFinal' | 'finalToLlm' | 'toEngine' | 'piperInWorker' | 'hostHop' | 'toFirstFrameSent' | 'toSpeaker' | 'framesAhead' | 'llmAfterFirstChunk';

/** Per turn, where the time of the asr and tts steps goes (printed, not compared). */
interface Notes {
  flow: Record<FlowNote, number>[];
  bare: (BareTurn['notes'] & { asr: number })[];
}

function printNotes({ flow, bare }: Notes): void {
  const of = <K extends string>(turns: Record<K, number>[], key: K | undefined) => (key ? median(turns.map((n) => n[key])).toFixed(2) : '—');
  const rows: [string, FlowNote | undefined, keyof Notes['bare'][number] | undefined][] = [
    ['asr: speech-end reaches this thread → asr sends it', 'endToSend', undefined],
    ['     speech-end → final, as they reach this thread', 'endToFinal', 'asr'],
    ['     final reaches this thread → llama-llm receives it', 'finalToLlm', undefined],
    ['tts: piper-tts receives the chunk → its engine call', 'toEngine', undefined],
    ["     Piper's first audio, timed in its worker", 'piperInWorker', 'piperInWorker'],
    ['     EngineHost hop, there and back', 'hostHop', 'hostHop'],
    ['     first sentence back → piper-tts sends the first frame', 'toFirstFrameSent', undefined],
    ['     → speaker-out receives it', 'toSpeaker', undefined],
    ['     (frames piper-tts had sent by then, a count)', 'framesAhead', undefined],
    ['     the LLM decodes on after its first chunk', 'llmAfterFirstChunk', 'llmAfterFirstChunk'],
    ['     bare Piper, first chunk again with the LLM idle', undefined, 'piperAlone'],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stderr.write(
    [
      `voice-loop: where the asr and tts steps' time goes (ms, medians of ${TURNS})`,
      `  ${''.padEnd(width)}  ${'flow'.padStart(7)}  ${'bare'.padStart(7)}`,
      ...rows.map(([label, f, b]) => `  ${label.padEnd(width)}  ${of(flow, f).padStart(7)}  ${of(bare, b).padStart(7)}`),
    ].join('\n') + '\n',
  );
}

/**
 * TURNS barge-ins: a typed question gets a long reply; while it plays, the
 * mic plays the clip. From the mic frame holding the onset (`onsetFrame`, as
 * the bare VAD placed it) to speaker-out's tts-end (cut) of the reply.
 */
async function bargeIns(models: Models, mic: string, speakerWav: string, onsetFrame: number[], vadStartMs: number[]): Promise<number[]> {
  // A reply long enough to talk over.
  const ids = await loadFlow(models, mic, speakerWav, { 'llama-llm': { maxTokens: 200 } });
  let frames: number[] = [];
  let micDone = false;
  let user: string | undefined;
  let vadStartMsHere: number | undefined;
  const started = new Set<string>();
  const ended = new Map<string, { at: number; cut: boolean }>();
  onSend(ids.mic, (m, at) => {
    if (m.flush === true) micDone = true;
    else frames.push(at);
  });
  onSend(ids.asr, (m) => {
    if (controlOf(m)?.type === 'speech-start') user ??= controlOf(m)!.turnId;
    if (m.topic === 'metrics' && m.turnId === user) vadStartMsHere = (m.payload as { vad_start_ms: number }).vad_start_ms;
  });
  onSend(ids.speaker, (m, at) => {
    const c = controlOf(m);
    if (c?.type === 'tts-start') started.add(c.turnId);
    if (c?.type === 'tts-end') ended.set(c.turnId, { at, cut: c.cut === true });
  });
  const silenced: number[] = [];
  try {
    for (let i = 0; i < TURNS; i++) {
      frames = [];
      micDone = false;
      user = vadStartMsHere = undefined;
      const reply = `reply-${i}`;
      inject(ids.llm, { payload: 'Once upon a time', turnId: reply });
      await until(() => started.has(reply), 60_000, 'the reply to play');
      inject(ids.mic, { payload: 'start' });
      await until(() => ended.has(reply), 30_000, 'the barge-in to silence the speaker');
      const end = ended.get(reply)!;
      if (!end.cut) throw new Error(`barge-in ${i + 1}: the reply ended before the user spoke`);
      // The user's own question is answered: stop that too, so the next barge-in starts from quiet.
      await until(() => user !== undefined && started.has(user) && vadStartMsHere !== undefined, 60_000, "the answer to the user's question");
      // The onset frame comes from the bare VAD: right only if the flow's VAD decided alike.
      if (vadStartMsHere !== vadStartMs[i]) throw new Error(`barge-in ${i + 1}: the flow's VAD was sure after ${vadStartMsHere} ms of speech, the bare one after ${vadStartMs[i]} ms`);
      silenced.push(end.at - frames[onsetFrame[i]]);
      const stop = makeControl('interrupt', '*', { reason: 'user' });
      for (const id of [ids.llm, ids.tts, ids.speaker]) inject(id, { ...stop });
      await until(() => ended.has(user!) && micDone, 30_000, 'the answer to stop and the clip to end');
      await sleep(300);
    }
  } finally {
    await helper.unload();
  }
  return silenced;
}

/** The flow's own settings, read as the nodes read them (with `changes`), for the bare engines. */
export function bareSettings(models: Models, mic: { path: string; samples: Float32Array }, dir: string, changes: Record<string, Msg> = {}) {
  const { byType } = shippedFlow(models, mic.path, '');
  for (const [type, settings] of Object.entries(changes)) Object.assign(byType(type), settings);
  const config = <C extends { version?: number }>(type: string, migrations: Migration<C>[]) => migrate(byType(type) as unknown as C, migrations);
  const frame = (SPEECH_RATE * config<MicInConfig>('mic-in', MIC_MIGRATIONS).frameMs) / 1000;
  const a = config<AsrConfig>('asr', ASR_MIGRATIONS);
  const vad = { model: a.vadModel, threshold: a.vadThreshold, minSpeech: a.minSpeech, minSilence: a.minSilence, maxSpeech: a.maxSpeech };
  const llm = config<LlamaLlmConfig>('llama-llm', LLM_MIGRATIONS);
  const p = config<PiperTtsConfig>('piper-tts', TTS_MIGRATIONS);
  const rate = config<SpeakerOutConfig>('speaker-out', SPEAKER_MIGRATIONS).wavRate;
  const sinkBuffer = (rate * SINK_BUFFER_MS) / 1000;
  const settings: BareSettings = {
    asr: { vad, modelDir: a.modelDir, language: a.language },
    llm: { engine: { modelPath: llm.modelPath, threads: llm.threads > 0 ? llm.threads : defaultThreads(), contextSize: llm.contextSize }, settings: controllerSettings(llm) },
    tts: { modelPath: p.voicePath, threads: p.threads, frameMs: p.frameMs, synth: { lengthScale: p.lengthScale, noiseScale: p.noiseScale, noiseW: p.noiseW, speakerId: p.speakerId, sentenceSilence: p.sentenceSilence } },
    sink: { path: join(dir, 'bare-sink.wav'), sampleRate: rate, framesPerBuffer: sinkBuffer },
    clip: mic.samples,
    frame,
  };
  return { settings, vad, rate, sinkBuffer, frame };
}

export async function run(): Promise<BenchRow[]> {
  helper.init(require.resolve('node-red'));
  const dir = mkdtempSync(join(tmpdir(), 'bench-loop-'));
  try {
    const models = { asrDir: writeTinyAsrModel(dir), voice: writeTinyPiperVoice(dir), speakerModel: writeTinySpeakerModel(dir) };
    const mic = await micClip(dir);
    const { settings, vad, rate, sinkBuffer, frame } = bareSettings(models, mic, dir);
    const bare = await BareVoiceLoop.start(settings);
    const stages = await turns(models, mic.path, join(dir, 'spoken.wav'), bare).finally(() => bare.close());
    printNotes(stages.notes);
    const bareVad = vadOnset(vad, mic.samples, frame, TURNS);
    const bareCancel = await queueCancel(dir, rate, sinkBuffer, TURNS);
    const silenced = await bargeIns(models, mic.path, join(dir, 'barge-in.wav'), bareVad.onsetFrame, bareVad.vadStartMs);

    const bench = 'voice loop (tiny models)';
    const goal = 'ratio <= 1.15';
    const baselines = stages.bare.map(median);
    const endToEnd = stages.flow[0].map((_, i) => sum(stages.flow.map((s) => s[i])));
    return [
      ...STAGES.map((metric, s) => ({ bench, metric: `${metric} (median of ${TURNS})`, value: median(stages.flow[s]), unit: 'ms', baseline: baselines[s], goal })),
      { bench, metric: `end of speech → first sample played (median of ${TURNS})`, value: median(endToEnd), unit: 'ms', baseline: sum(baselines), goal },
      { bench, metric: `barge-in: speech onset → speaker silent (median of ${TURNS})`, value: median(silenced), unit: 'ms', baseline: median(bareVad.ms) + median(bareCancel), goal },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runAsScript(module, run);
