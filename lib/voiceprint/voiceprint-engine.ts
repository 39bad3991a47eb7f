/**
 * Speaker embeddings in an EngineHost worker: sherpa-onnx's extractor
 * (3D-Speaker, WeSpeaker, NeMo models) plus the Silero VAD stream, so that a
 * decision about who speaks is ready within the first 0.5 s of speech.
 */
import { existsSync } from 'node:fs';
import { AudioHistory } from '../audio/history';
import { CodedError } from '../coded-error';
import { MISSING_MODEL_STATUS, missingModelMessage } from '../models/missing-model';
import type { CallContext, Engine } from '../engine/engine';
import { SAMPLE_RATE, VadStream, type VadSettings } from '../vad/vad-stream';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

export interface VoiceprintOptions {
  model: string;
  vad: VadSettings;
  /** Seconds of speech to listen to before deciding (≤ 0.5 keeps barge-in fast). */
  decisionSeconds: number;
}

export type VoiceprintEvent =
  | { type: 'speech-start'; speechStartMs: number }
  | { type: 'decision'; embedding: number[]; speechStartMs: number; /** audio heard before deciding */ heardMs: number }
  | { type: 'speech-end' };

/** Enrolment needs this much speech: shorter samples give unstable voiceprints. */
export const MIN_ENROL_SECONDS = 1;

interface Extractor {
  createStream(): { acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void; inputFinished?(): void };
  compute(stream: unknown): Float32Array;
}

export function createEngine(options: VoiceprintOptions): Engine {
  if (!options.model || !existsSync(options.model)) {
    throw new CodedError(missingModelMessage('speaker', 'speaker model', options.model), 'MODEL_MISSING', MISSING_MODEL_STATUS.speaker);
  }
  const extractor = new sherpa.SpeakerEmbeddingExtractor({ model: options.model, numThreads: 1, debug: false }) as Extractor;
  const embed = (samples: Float32Array): number[] => {
    const s = extractor.createStream();
    s.acceptWaveform({ samples, sampleRate: SAMPLE_RATE });
    s.inputFinished?.();
    return Array.from(extractor.compute(s));
  };
  const vad = new VadStream(options.vad);
  const history = new AudioHistory(SAMPLE_RATE, 3);
  let segment: { startMs: number; decided: boolean } | undefined;

  const stream = (samples: Float32Array): VoiceprintEvent[] => {
    history.push(samples);
    const out: VoiceprintEvent[] = [];
    for (const e of vad.push(samples)) {
      if (e.type === 'speech-start') {
        segment = { startMs: e.speechStartMs, decided: false };
        out.push({ type: 'speech-start', speechStartMs: e.speechStartMs });
      } else {
        if (segment && !segment.decided) out.push(decide(Float32Array.from(e.samples), e.speechStartMs));
        segment = undefined;
        out.push({ type: 'speech-end' });
      }
    }
    if (segment && !segment.decided && history.nowMs - segment.startMs >= options.decisionSeconds * 1000) {
      out.push(decide(history.since(segment.startMs), segment.startMs));
    }
    return out;
  };

  const decide = (audio: Float32Array, speechStartMs: number): VoiceprintEvent => {
    if (segment) segment.decided = true;
    return { type: 'decision', embedding: embed(audio), speechStartMs, heardMs: (audio.length / SAMPLE_RATE) * 1000 };
  };

  /** A whole recording (enrolment): its speech only, refused when there is too little. */
  const enrolment = (samples: Float32Array): number[] => {
    const once = new VadStream(options.vad);
    const parts = [...once.push(samples), ...once.flush()].flatMap((e) => (e.type === 'speech-end' ? [e.samples] : []));
    const seconds = parts.reduce((n, p) => n + p.length, 0) / SAMPLE_RATE;
    if (seconds === 0) throw new CodedError('no speech found in the enrolment audio', 'NO_SPEECH', 'no speech heard');
    if (seconds < MIN_ENROL_SECONDS) {
      throw new CodedError(`only ${seconds.toFixed(1)} s of speech; enrolment needs at least ${MIN_ENROL_SECONDS} s`, 'TOO_SHORT', 'too little speech');
    }
    const speech = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      speech.set(p, at);
      at += p.length;
    }
    return embed(speech);
  };

  return {
    handle(method: string, payload: unknown, _ctx: CallContext) {
      if (method === 'audio') return stream(payload as Float32Array);
      if (method === 'enrol') return enrolment(payload as Float32Array);
      if (method === 'embed') return embed(payload as Float32Array);
      throw new Error(`unknown method ${method}`);
    },
  };
}
