/**
 * Smart Turn v3 (pipecat-ai/smart-turn-v3, BSD-2): does the audio so far
 * sound like a finished turn? It hears the last 8 s (lib/turn/log-mel.ts
 * makes its input) and returns the probability of "complete"; pipecat calls a
 * turn complete above 0.5. Runs in onnxruntime-node, inside the asr worker.
 */
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { CodedError } from '../coded-error';
import { damagedFileHint } from '../models/damaged-file';
import { missingModelMessage } from '../models/missing-model';
import { FRAMES, logMel, N_MELS } from './log-mel';

export const COMPLETE_ABOVE = 0.5;

export interface TurnVerdict {
  /** Probability that the turn is complete (0..1). */
  probability: number;
  complete: boolean;
  /** Features and inference, wall time. */
  ms: number;
}

/**
 * The model is int8. On x86 CPUs without VNNI (AVX2 only: many AMD EPYC and
 * older Intel chips), onnxruntime's fast int8 matrix product saturates its
 * 16-bit sums, and the verdicts drift far: on this AVX2 box a sentence cut
 * after "Lord, but I'm glad to" scored 0.75 ("complete") instead of 0.15.
 * x64quantprecision takes the exact path there; elsewhere (ARM, VNNI) it changes nothing.
 */
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { x64quantprecision: '1' } },
};

export class SmartTurn {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(path: string, threads = 1): Promise<SmartTurn> {
    if (!path || !existsSync(path)) throw new CodedError(missingModelMessage('turn', 'Smart Turn model', path), 'TURN_MODEL_MISSING', 'no turn model');
    const session = await ort.InferenceSession.create(path, { ...SESSION_OPTIONS, intraOpNumThreads: threads }).catch((err: Error) => {
      throw new CodedError(`${path} is not a readable ONNX model (${err.message.trim()}): ${damagedFileHint(path)}`, 'TURN_MODEL_INVALID', 'bad turn model');
    });
    if (!session.inputNames.includes('input_features')) {
      throw new CodedError(`${path} is not a Smart Turn v3 model: it has no input input_features: ${damagedFileHint(path)}`, 'TURN_MODEL_INVALID', 'bad turn model');
    }
    return new SmartTurn(session);
  }

  /** `audio`: 16 kHz mono up to now (only the last 8 s count). */
  async predict(audio: Float32Array): Promise<TurnVerdict> {
    const t0 = performance.now();
    const features = new ort.Tensor('float32', logMel(audio), [1, N_MELS, FRAMES]);
    const out = await this.session.run({ input_features: features });
    const probability = Number((out[this.session.outputNames[0]].data as Float32Array)[0]);
    return { probability, complete: probability > COMPLETE_ABOVE, ms: performance.now() - t0 };
  }

  dispose(): Promise<void> {
    return this.session.release();
  }
}
