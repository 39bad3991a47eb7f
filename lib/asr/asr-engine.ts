/**
 * Speech recognition as an EngineHost worker module: Silero VAD decides where
 * speech starts and ends; a sherpa-onnx recogniser from the model folder turns
 * it into text, while the user speaks (streaming models: partial results) or
 * per utterance (Whisper, Moonshine, SenseVoice, NeMo CTC). No model folder:
 * VAD events only (barge-in detection).
 *
 * Methods: audio (Float32Array, 16 kHz mono), flush, pause, resume. Each
 * event is sent as a chunk the moment it happens (speech-end leaves before the
 * final decode starts); the call resolves with all of them, for callers that
 * only want the list.
 */
import type { CallContext, Engine } from '../engine/engine';
import { SileroVad, type VadSettings } from '../vad/silero-vad';
import { detectModel, type RecognizerKind } from './model-folder';
import { createRecognizer } from './recognizers';
import { AsrSession, type AsrEvent } from './session';

export type { AsrEvent };

export interface AsrOptions {
  vad: VadSettings;
  /** A sherpa-onnx model folder; empty = VAD only. */
  modelDir: string;
  /** Whisper / SenseVoice language ('' = the model's default or automatic). */
  language?: string;
}

export interface AsrInfo {
  kind: RecognizerKind | 'vad-only';
  streaming: boolean;
}

export function createEngine(options: AsrOptions): Engine {
  const vad = new SileroVad(options.vad);
  const spec = options.modelDir ? detectModel(options.modelDir, options.language) : undefined;
  const session = new AsrSession(vad, spec && createRecognizer(spec));
  const info: AsrInfo = { kind: spec?.kind ?? 'vad-only', streaming: spec?.streaming ?? false };
  return {
    info,
    handle(method: string, payload: unknown, ctx: CallContext) {
      const events: AsrEvent[] = [];
      const emit = (e: AsrEvent) => {
        events.push(e);
        ctx.emit(e);
      };
      if (method === 'audio') session.audio(payload as Float32Array, emit);
      else if (method === 'flush') session.flush(emit);
      else if (method === 'pause') session.pause();
      else if (method === 'resume') session.resume(emit);
      else throw new Error(`unknown method ${method}`);
      return events;
    },
  };
}
