/**
 * The end-of-turn test set, from the shared clips with transcripts: each
 * sentence whole (complete), and the same sentence cut after a word in its
 * middle (incomplete), each followed by silence. Cut points started from
 * faster-whisper tiny.en's word timestamps (the judge's model) and were moved
 * until the judge, transcribing the cut clip, heard exactly the words listed
 * (its timestamps are off by up to 0.3 s: "glad to" first came out "glad to
 * see you."); in the code each is moved to the quietest 10 ms within 50 ms.
 * The librispeech clips are cut into their sentences the same way.
 * The silence around is not digital silence, which no microphone hears: the
 * whole clip gets white noise at the recording's own floor (its quietest
 * tenth of 10 ms frames; at least -65 dBFS, a quiet room): else the
 * librispeech recordings' room noise (-45 dB) would stop at the cut, heard as
 * voice up to there.
 */
import { join } from 'node:path';
import { readWavMono } from '../../../lib/audio/wav';
import { TESTDATA } from '../../support/paths';
import { RATE } from '../vad/clips';

export interface TurnClip {
  name: string;
  complete: boolean;
  /** The words heard (for the report). */
  words: string;
  /** Silence before, the speech, then `tail` seconds of silence. */
  audio: Float32Array;
  /** One past the last sample of the last word, in `audio`. */
  lastWord: number;
}

/** [clip, from s, to s, words, complete]; to = -1: the clip's end. */
const CUTS: [string, number, number, string, boolean][] = [
  ['arctic_aew_a0001', 0, -1, 'Author of the danger trail, Philip Steels, etc.', true],
  ['arctic_aew_a0001', 0, 1.04, 'Author of the', false],
  ['arctic_aew_a0002', 0, -1, 'Not at this particular case, Tom, apologized Whittemore.', true],
  ['arctic_aew_a0002', 0, 0.8, 'Not at this', false],
  ['arctic_axb_a0004', 0, -1, "Lord, but I'm glad to see you again, Phil.", true],
  ['arctic_axb_a0004', 0, 1.6, "Lord, but I'm glad to", false],
  ['arctic_axb_a0005', 0, -1, 'Will we ever forget it.', true],
  ['arctic_axb_a0005', 0, 0.88, 'Will we ever', false],
  ['ls_1688-142285-0001', 0, 5.04, 'Margaret said Mister Hale as he returned from showing his guest downstairs', true],
  ['ls_1688-142285-0001', 0, 3.56, 'Margaret said Mister Hale as he returned from', false],
  ['ls_1688-142285-0001', 5.6, -1, 'I could not help watching your face ... of having been a shop boy', true],
  // Each cut ends on a word that needs more (a preposition, an article, an auxiliary...); not on
  // "... watching your": "your face" runs together, every cut there keeps the f.
  ['ls_1688-142285-0001', 5.6, 7.46, 'I could not help watching your face with', false],
  ['ls_1688-142285-0000', 3.7, 6.0, 'and a grain or two perhaps is good', true],
  ['ls_1688-142285-0000', 3.7, 5.24, 'and a grain or two perhaps', false],
];

const LEAD = 1;

/** The middle of the quietest 10 ms within 50 ms of `at` (samples). */
function quietest(samples: Float32Array, at: number): number {
  const frame = RATE / 100;
  let best = at;
  let bestEnergy = Infinity;
  for (let c = Math.max(frame, at - 5 * frame); c <= Math.min(samples.length - frame, at + 5 * frame); c += frame / 2) {
    let e = 0;
    for (let k = c - frame / 2; k < c + frame / 2; k++) e += samples[k] ** 2;
    if (e < bestEnergy) [best, bestEnergy] = [c, e];
  }
  return best;
}

/** The RMS of the quietest tenth of the 10 ms frames. */
function floorOf(samples: Float32Array): number {
  const frame = RATE / 100;
  const rms: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let k = i; k < i + frame; k++) sum += samples[k] ** 2;
    rms.push(Math.sqrt(sum / frame));
  }
  return rms.sort((a, b) => a - b)[Math.floor(rms.length / 10)];
}

/**
 * One past the last 10 ms frame within 35 dB of the loudest and 15 dB above
 * the floor: the end of the last word (clips.ts's energyBoundaries, which
 * takes the librispeech room noise, 30 dB down, for speech).
 */
function lastVoiced(samples: Float32Array, floorRms: number): number {
  const frame = RATE / 100;
  const energy: number[] = [];
  for (let i = 0; i + frame <= samples.length; i += frame) {
    let sum = 0;
    for (let k = i; k < i + frame; k++) sum += samples[k] ** 2;
    energy.push(sum / frame);
  }
  const threshold = Math.max(Math.max(...energy) * 10 ** -3.5, floorRms ** 2 * 10 ** 1.5);
  let last = energy.length - 1;
  while (last > 0 && energy[last] < threshold) last--;
  return (last + 1) * frame;
}

/** Uniform white noise of the given RMS, the same every run. */
function addNoise(audio: Float32Array, rms: number): void {
  const half = rms * Math.sqrt(3);
  let seed = 1;
  for (let k = 0; k < audio.length; k++) {
    seed = (seed * 16807) % 2147483647;
    audio[k] += (seed / 2147483647 - 0.5) * 2 * half;
  }
}

export async function turnClips(tail = 2.5): Promise<TurnClip[]> {
  const out: TurnClip[] = [];
  for (const [name, from, to, words, complete] of CUTS) {
    const { samples } = await readWavMono(join(TESTDATA, `${name}.wav`));
    const a = from === 0 ? 0 : quietest(samples, Math.round(from * RATE));
    const b = to < 0 ? samples.length : quietest(samples, Math.round(to * RATE));
    const speech = Float32Array.from(samples.subarray(a, b));
    // A 10 ms fade: a cut in the middle of a sound must not click.
    if (to >= 0) for (let k = 0; k < 160; k++) speech[speech.length - 1 - k] *= k / 160;
    const audio = new Float32Array(Math.round((LEAD + tail) * RATE) + speech.length);
    audio.set(speech, LEAD * RATE);
    const floor = Math.max(10 ** (-65 / 20), floorOf(speech));
    const lastWord = LEAD * RATE + lastVoiced(speech, floor);
    addNoise(audio, floor);
    out.push({ name: `${name}${from || to >= 0 ? ` ${from}-${to < 0 ? 'end' : to} s` : ''}`, complete, words, audio, lastWord });
  }
  return out;
}
