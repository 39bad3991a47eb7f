import { join } from 'node:path';
import type { VadSettings } from '../../lib/vad/vad-stream';
import { SHARED_MODELS } from './paths';

/** The node defaults, with the real Silero model beside the checkout. */
export const TEST_VAD: VadSettings = { model: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), threshold: 0.5, minSpeech: 0.25, minSilence: 0.5, maxSpeech: 20 };
