import fc from 'fast-check';
import { float32ToS16le } from '../../lib/audio/pcm';
import { audioArb, audioProblem, controlArb, controlProblem, junkArb, type Msg } from './fuzz-messages';

/**
 * The audio-input nodes (asr, voiceprint) take frames, msg.flush and the
 * control wire; everything else is an audio frame that must pass the contract.
 */
export function audioNodeRefuses(msg: Msg): string | undefined {
  if (msg.control != null) return controlProblem(msg.control);
  if (msg.flush === true) return undefined;
  return audioProblem(msg);
}

export function audioNodeStepArb(ids: readonly string[]): fc.Arbitrary<Msg> {
  return fc.oneof(
    { weight: 6, arbitrary: audioArb(ids) },
    { weight: 3, arbitrary: controlArb(ids) },
    { weight: 1, arbitrary: junkArb(ids) },
    { weight: 1, arbitrary: fc.constant<Msg>({ flush: true }) },
  );
}

/** Audio as 20 ms frames of 16 kHz mono messages. */
export function speechFrames(samples: Float32Array): Msg[] {
  const out: Msg[] = [];
  for (let i = 0; i + 320 <= samples.length; i += 320) out.push({ topic: 'audio', payload: float32ToS16le(samples.subarray(i, i + 320)), audio: { sampleRate: 16000, channels: 1, format: 's16le' } });
  return out;
}
