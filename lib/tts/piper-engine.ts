/**
 * Piper voices in an EngineHost worker: text → espeak-ng phonemes → ids →
 * onnxruntime → audio, one sentence at a time, each sentence emitted as soon
 * as the model returns it.
 */
import * as ort from 'onnxruntime-node';
import { yieldToEvents, type CallContext, type Engine } from '../engine/engine';
import { damagedFileHint } from '../models/damaged-file';
import { phonemeIds } from './phoneme-ids';
import { phonemize } from './phonemize';
import { loadVoiceConfig, VoiceError, type VoiceConfig } from './voice';

export interface PiperOptions {
  modelPath: string;
  threads?: number;
}

export interface SynthesizeRequest {
  text: string;
  lengthScale?: number;
  noiseScale?: number;
  noiseW?: number;
  speakerId?: number;
  /** Silence after each sentence, in seconds. */
  sentenceSilence?: number;
}

/** One synthesised sentence, as emitted to the host. */
export interface SentenceAudio {
  text: string;
  phonemes: string;
  samples: Float32Array;
  sampleRate: number;
}

export interface PiperInfo {
  sampleRate: number;
  numSpeakers: number;
  espeakVoice: string;
  speakers: string[];
}

const REQUIRED_INPUTS = ['input', 'input_lengths', 'scales'];

export async function createEngine({ modelPath, threads = 1 }: PiperOptions): Promise<Engine> {
  const voice = loadVoiceConfig(modelPath);
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' }).catch((err: Error) => {
    throw new VoiceError(`${modelPath} is not a readable ONNX voice (${err.message.trim()}): ${damagedFileHint(modelPath)}`, 'VOICE_INVALID');
  });
  const missing = REQUIRED_INPUTS.filter((n) => !session.inputNames.includes(n));
  if (missing.length) throw new VoiceError(`${modelPath} is not a Piper voice: it has no input ${missing.join(', ')}: choose a Piper voice, or ${damagedFileHint(modelPath)}`, 'VOICE_UNSUPPORTED');
  // espeak-ng's WASM start-up (~0.3 s) happens now, not in the first reply.
  await phonemize('Ready.', voice.espeakVoice);
  const info: PiperInfo = { sampleRate: voice.sampleRate, numSpeakers: voice.numSpeakers, espeakVoice: voice.espeakVoice, speakers: Object.keys(voice.speakerIdMap) };
  return {
    info,
    async handle(method: string, payload: unknown, ctx: CallContext) {
      if (method === 'phonemes') return phonemize((payload as { text: string }).text, voice.espeakVoice);
      if (method !== 'synthesize') throw new Error(`unknown method ${method}`);
      return synthesize(session, voice, payload as SynthesizeRequest, ctx);
    },
    dispose: () => session.release(),
  };
}

async function synthesize(session: ort.InferenceSession, voice: VoiceConfig, req: SynthesizeRequest, ctx: CallContext) {
  const t0 = performance.now();
  const sentences = await phonemize(req.text, voice.espeakVoice);
  const scales = new Float32Array([req.noiseScale ?? voice.noiseScale, req.lengthScale ?? voice.lengthScale, req.noiseW ?? voice.noiseW]);
  const speaker = req.speakerId ?? 0;
  if (voice.numSpeakers > 1 && (speaker < 0 || speaker >= voice.numSpeakers)) {
    throw new VoiceError(`speaker id ${speaker} does not exist: the voice has ${voice.numSpeakers} speakers (0 to ${voice.numSpeakers - 1})`, 'BAD_SPEAKER');
  }
  const silence = Math.round((req.sentenceSilence ?? 0.2) * voice.sampleRate);
  let firstAudioMs: number | null = null;
  let audioSamples = 0;
  const unknown = new Set<string>();
  for (const { text, phonemes } of sentences) {
    if (ctx.signal.aborted) break;
    const { ids, missing } = phonemeIds(phonemes, voice.phonemeIdMap);
    missing.forEach((m) => unknown.add(m));
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(ids.length)]), [1]),
      scales: new ort.Tensor('float32', scales, [3]),
    };
    if (voice.numSpeakers > 1) feeds.sid = new ort.Tensor('int64', BigInt64Array.from([BigInt(speaker)]), [1]);
    const result = await session.run(feeds);
    const audio = result[session.outputNames[0]].data as Float32Array;
    const samples = new Float32Array(audio.length + silence);
    samples.set(audio);
    firstAudioMs ??= performance.now() - t0;
    audioSamples += samples.length;
    if (ctx.signal.aborted) break;
    const sentence: SentenceAudio = { text, phonemes, samples, sampleRate: voice.sampleRate };
    ctx.emit(sentence, [samples.buffer]);
    await yieldToEvents(); // lets a cancel message in between sentences
  }
  return { sentences: sentences.length, firstAudioMs, synthMs: performance.now() - t0, audioMs: (audioSamples / voice.sampleRate) * 1000, unknownPhonemes: [...unknown] };
}
