/** The shared speech clips as the asr and VAD tests use them. */
import { join } from 'node:path';
import { readWavMono } from '../../../lib/audio/wav';
import { TESTDATA } from '../../support/paths';

export const RATE = 16000;

/** A 16 kHz clip of ../shared/models/testdata with `lead` and `tail` seconds of digital silence around it. */
export async function clip(name: string, lead = 1, tail = 1.5): Promise<Float32Array> {
  const { samples, sampleRate } = await readWavMono(join(TESTDATA, `${name}.wav`));
  if (sampleRate !== RATE) throw new Error(`${name} is ${sampleRate} Hz`);
  const audio = new Float32Array(Math.round((lead + tail) * RATE) + samples.length);
  audio.set(samples, Math.round(lead * RATE));
  return audio;
}

/** Calls `each` with consecutive chunks of `size` samples (the last may be shorter). */
export function chunks<T>(audio: Float32Array, size: number, each: (chunk: Float32Array) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < audio.length; i += size) out.push(...each(audio.subarray(i, i + size)));
  return out;
}

/**
 * The true speech boundaries of a clean clip, found without any VAD: the first
 * and last 10 ms frame whose energy is within 35 dB of the clip's loudest frame.
 * The ARCTIC clips are studio recordings (floor -57 to -72 dB, peaks -10 to
 * -15 dBFS), so this marks the first and last frame with speech energy,
 * independently of Silero and its settings. Sensitivity, measured: between
 * -30 and -40 dB the boundaries move by at most 30 ms, except axb_a0004's
 * start (a breath 100 ms earlier reaches -40 dB) and axb_a0005's end (the
 * final "t" of "it" lies 30-35 dB down: at -30 dB the end is 150 ms earlier).
 */
export function energyBoundaries(samples: Float32Array): { start: number; end: number } {
  const frame = RATE / 100;
  const db: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let k = 0; k < frame; k++) sum += samples[i + k] ** 2;
    db.push(10 * Math.log10(sum / frame + 1e-12));
  }
  const peak = Math.max(...db);
  const loud = db.map((d, i) => (d > peak - 35 ? i : -1)).filter((i) => i >= 0);
  return { start: loud[0] * frame, end: (loud.at(-1)! + 1) * frame };
}
