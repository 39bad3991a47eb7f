/**
 * Speech recognition in an EngineHost worker: Silero VAD decides where speech
 * starts and ends; a sherpa-onnx recogniser turns it into text, either while
 * the user speaks (streaming models: partial results) or per utterance
 * (Whisper, Moonshine, SenseVoice, NeMo CTC).
 */
import { AudioHistory } from '../audio/history';
import type { CallContext, Engine } from '../engine/engine';
import { detectRecognizer, type RecognizerSpec } from './recognizers';
import { SAMPLE_RATE, VadStream, type VadEvent, type VadSettings } from './vad-stream';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

export interface AsrOptions {
  vad: VadSettings;
  /** A sherpa-onnx model folder; empty = VAD only (speech events, no text). */
  modelDir: string;
  language?: string;
}

export type AsrEvent =
  | Extract<VadEvent, { type: 'speech-start' }>
  | Omit<Extract<VadEvent, { type: 'speech-end' }>, 'samples'>
  | { type: 'partial'; text: string }
  | { type: 'final'; text: string; recognitionMs: number; speechStartMs: number; speechEndMs: number };

export interface AsrInfo {
  kind: RecognizerSpec['kind'] | 'vad-only';
  streaming: boolean;
}

interface SherpaStream {
  acceptWaveform(w: { samples: Float32Array; sampleRate: number }): void;
  inputFinished?(): void;
}
interface OnlineRecognizer {
  createStream(): SherpaStream;
  isReady(s: SherpaStream): boolean;
  decode(s: SherpaStream): void;
  getResult(s: SherpaStream): { text: string };
}
interface OfflineRecognizer {
  createStream(): SherpaStream;
  decode(s: SherpaStream): void;
  getResult(s: SherpaStream): { text: string };
}

export function createEngine(options: AsrOptions): Engine {
  const spec = options.modelDir ? detectRecognizer(options.modelDir, options.language) : undefined;
  const online = spec?.streaming ? (new sherpa.OnlineRecognizer(spec.config) as OnlineRecognizer) : undefined;
  const offline = spec && !spec.streaming ? (new sherpa.OfflineRecognizer(spec.config) as OfflineRecognizer) : undefined;
  let vad = new VadStream(options.vad);
  const history = new AudioHistory(SAMPLE_RATE, 3);
  let stream: SherpaStream | undefined;
  let partial = '';
  const info: AsrInfo = { kind: spec?.kind ?? 'vad-only', streaming: Boolean(online) };

  const decodeOnline = (): string => {
    if (!online || !stream) return '';
    while (online.isReady(stream)) online.decode(stream);
    return online.getResult(stream).text.trim();
  };

  const handleEvents = (events: VadEvent[], fresh: Float32Array): AsrEvent[] => {
    const out: AsrEvent[] = [];
    let fedFresh = false;
    for (const e of events) {
      if (e.type === 'speech-start') {
        out.push(e);
        if (online) {
          stream = online.createStream();
          stream.acceptWaveform({ samples: history.since(e.speechStartMs), sampleRate: SAMPLE_RATE });
          fedFresh = true;
          partial = '';
        }
        continue;
      }
      const { samples, ...end } = e;
      out.push(end);
      const t0 = performance.now();
      let text: string;
      if (online && stream) {
        if (!fedFresh) stream.acceptWaveform({ samples: fresh, sampleRate: SAMPLE_RATE });
        // A little silence lets the model emit the last word before the stream closes.
        stream.acceptWaveform({ samples: new Float32Array(SAMPLE_RATE / 4), sampleRate: SAMPLE_RATE });
        stream.inputFinished?.();
        text = decodeOnline();
        stream = undefined;
        fedFresh = true;
      } else if (offline) {
        const s = offline.createStream();
        s.acceptWaveform({ samples, sampleRate: SAMPLE_RATE });
        offline.decode(s);
        text = offline.getResult(s).text.trim();
      } else {
        continue;
      }
      out.push({ type: 'final', text, recognitionMs: performance.now() - t0, speechStartMs: e.speechStartMs, speechEndMs: e.speechEndMs });
    }
    if (online && stream && !fedFresh) {
      stream.acceptWaveform({ samples: fresh, sampleRate: SAMPLE_RATE });
      const text = decodeOnline();
      if (text && text !== partial) out.push({ type: 'partial', text: (partial = text) });
    }
    return out;
  };

  return {
    info,
    handle(method: string, payload: unknown, _ctx: CallContext) {
      switch (method) {
        case 'audio': {
          const samples = payload as Float32Array;
          history.push(samples);
          return handleEvents(vad.push(samples), samples);
        }
        case 'flush':
          return handleEvents(vad.flush(), new Float32Array(0));
        case 'reset':
          vad = new VadStream(options.vad);
          stream = undefined;
          return [];
        default:
          throw new Error(`unknown method ${method}`);
      }
    },
  };
}
