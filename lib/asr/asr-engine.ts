/**
 * Speech recognition as an EngineHost worker module: Silero VAD decides where
 * speech starts, and where it ends either after a silence or, with a turn
 * model, when Smart Turn v3 hears a finished turn (lib/turn/turn-end.ts); a
 * sherpa-onnx recogniser from the model folder turns it into text, while the
 * user speaks (streaming models: partial results) or per utterance (Whisper,
 * Moonshine, SenseVoice, NeMo CTC). No model folder: VAD events only
 * (barge-in detection).
 *
 * Methods: audio (Float32Array, 16 kHz mono), flush, pause, resume. Each
 * event is sent as a chunk the moment it happens (speech-end leaves before the
 * final decode starts); the call resolves with all of them, for callers that
 * only want the list. Calls run one at a time, in order: the turn model is
 * asynchronous, and the audio after it must wait for its verdict.
 */
import type { CallContext, Engine } from '../engine/engine';
import { SmartTurn } from '../turn/smart-turn';
import { TurnEnd, type TurnSettings } from '../turn/turn-end';
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
  /** End of turn by Smart Turn v3 (the .onnx file); absent = by silence (vad.minSilence). */
  turn?: TurnSettings & { model: string };
}

export interface AsrInfo {
  kind: RecognizerKind | 'vad-only';
  streaming: boolean;
}

export async function createEngine(options: AsrOptions): Promise<Engine> {
  const turnModel = options.turn && (await SmartTurn.load(options.turn.model));
  const segmenter = turnModel ? new TurnEnd(options.vad, turnModel, options.turn) : new SileroVad(options.vad);
  const spec = options.modelDir ? detectModel(options.modelDir, options.language) : undefined;
  const session = new AsrSession(segmenter, spec && createRecognizer(spec));
  const info: AsrInfo = { kind: spec?.kind ?? 'vad-only', streaming: spec?.streaming ?? false };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    info,
    handle(method: string, payload: unknown, ctx: CallContext) {
      const run = queue.then(async () => {
        const events: AsrEvent[] = [];
        const emit = (e: AsrEvent) => {
          events.push(e);
          ctx.emit(e);
        };
        if (method === 'audio') await session.audio(payload as Float32Array, emit);
        else if (method === 'flush') session.flush(emit);
        else if (method === 'pause') session.pause();
        else if (method === 'resume') session.resume(emit);
        else throw new Error(`unknown method ${method}`);
        return events;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    dispose: () => turnModel?.dispose(),
  };
}
