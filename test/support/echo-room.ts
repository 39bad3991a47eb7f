/**
 * Rooms for echo-cancellation tests and the aec bench: the shared aec-room
 * recording, and rooms simulated here (speaker-to-mic delay, level, reverb,
 * noise) from the shared speech clips; plus the scores the issue asks for.
 */
import { join } from 'node:path';
import { EchoCanceller, type EchoCancellerOptions } from '../../lib/aec/echo-canceller';
import { SileroVad } from '../../lib/vad/silero-vad';
import { float32ToInt16, int16ToFloat32 } from '../../lib/audio/pcm';
import { resample } from '../../lib/audio/resample';
import { readWavMono } from '../../lib/audio/wav';
import { SHARED, TESTDATA } from './paths';
import { TEST_VAD } from './vad';

export const RATE = 16000;
const AEC_ROOM = join(SHARED, 'audio', 'aec-room');

async function clip(path: string): Promise<Int16Array> {
  const wav = await readWavMono(path);
  return float32ToInt16(wav.sampleRate === RATE ? wav.samples : resample(wav.samples, wav.sampleRate, RATE));
}

/** ../shared/audio/aec-room: far (played), near (mic: echo + user from 6 s + noise), user alone. */
export async function aecRoom(): Promise<{ far: Int16Array; near: Int16Array; user: Int16Array; userFrom: number }> {
  const [far, near, user] = await Promise.all(['far.wav', 'near.wav', 'user_clean.wav'].map((f) => clip(join(AEC_ROOM, f))));
  return { far, near, user, userFrom: 6 * RATE };
}

/** The assistant's voice (three speakers) and the user's (two others), from the shared clips. */
export async function voices(): Promise<{ assistant: Int16Array[]; user: Int16Array[] }> {
  const load = (names: string[]) => Promise.all(names.map((n) => clip(join(TESTDATA, n))));
  return {
    assistant: await load(['arctic_aew_a0001.wav', 'arctic_aew_a0002.wav', 'ls_1688-142285-0000.wav', 'ls_1688-142285-0001.wav', 'speakers/ls_2414-128291-0000.wav', 'speakers/ls_2414-128291-0003.wav']),
    user: await load(['arctic_axb_a0004.wav', 'arctic_axb_a0005.wav', 'speakers/ls_3080-5032-0000.wav', 'speakers/ls_3080-5032-0003.wav']),
  };
}

/** Deterministic noise, so a failing room can be replayed. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** `seconds` of speech: the clips one after another (in a seeded order), with pauses between. */
export function speech(clips: Int16Array[], seconds: number, seed: number): Int16Array {
  const rnd = random(seed);
  const out = new Int16Array(Math.round(seconds * RATE));
  let at = 0;
  while (at < out.length) {
    const c = clips[Math.floor(rnd() * clips.length)];
    out.set(c.subarray(0, out.length - at), at);
    at += c.length + Math.round((0.2 + 0.6 * rnd()) * RATE);
  }
  return out;
}

export interface Room {
  /** Speaker-to-microphone delay (ms): device buffers plus air. */
  delayMs: number;
  /** Level of the direct echo relative to what was played. */
  gain: number;
  /** Length of the decaying reverberant tail (ms), its level relative to the direct echo. */
  reverbMs: number;
  reverbLevel: number;
  /** Peak of uniform background noise (LSB). */
  noise: number;
  seed: number;
}

export const ROOMS: Record<string, Room> = {
  'close speaker, dry': { delayMs: 12, gain: 0.8, reverbMs: 30, reverbLevel: 0.2, noise: 2, seed: 1 },
  'living room': { delayMs: 60, gain: 0.4, reverbMs: 150, reverbLevel: 0.3, noise: 20, seed: 2 },
  'Bluetooth-like latency': { delayMs: 260, gain: 0.5, reverbMs: 80, reverbLevel: 0.25, noise: 8, seed: 3 },
  'loud speaker, noisy kitchen': { delayMs: 35, gain: 1.2, reverbMs: 100, reverbLevel: 0.3, noise: 200, seed: 4 },
};

/** The room's impulse response: the direct path, then exponentially decaying random reflections. */
function impulseResponse(room: Room): Float64Array {
  const rnd = random(room.seed);
  const delay = Math.round((room.delayMs * RATE) / 1000);
  const tail = Math.round((room.reverbMs * RATE) / 1000);
  const h = new Float64Array(delay + tail + 1);
  h[delay] = room.gain;
  for (let i = 1; i <= tail; i++) h[delay + i] = room.gain * room.reverbLevel * (rnd() * 2 - 1) * Math.exp((-5 * i) / tail) * 0.3;
  return h;
}

/** What the microphone hears: the played audio through the room, plus the user (if any) and noise. */
export function microphone(room: Room, played: Int16Array, user?: Int16Array): Int16Array {
  const h = impulseResponse(room);
  const taps: number[] = [];
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) taps.push(i);
  const rnd = random(room.seed + 1000);
  const out = new Int16Array(played.length);
  for (let n = 0; n < out.length; n++) {
    let v = 0;
    for (const i of taps) if (n >= i) v += h[i] * played[n - i];
    v += (user?.[n] ?? 0) + room.noise * (rnd() * 2 - 1);
    out[n] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

/** Runs a canceller over mic and reference in 20 ms frames; returns its output aligned with the input. */
export function cancel(mic: Int16Array, reference: Int16Array, options?: EchoCancellerOptions): { out: Int16Array; msPerFrame10: number } {
  const aec = new EchoCanceller(options);
  const frame = RATE / 50;
  const out = new Int16Array(mic.length + aec.latencySamples);
  const started = performance.now();
  for (let i = 0; i < mic.length; i += frame) {
    const end = Math.min(mic.length, i + frame);
    out.set(aec.process(mic.subarray(i, end), reference.subarray(i, end)), i);
  }
  const ms = performance.now() - started;
  return { out: out.subarray(aec.latencySamples, aec.latencySamples + mic.length), msPerFrame10: ms / (mic.length / (RATE / 100)) };
}

function energy(x: Int16Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return s;
}

/** Echo return loss enhancement (dB) over [from, to) samples: how much quieter the output is than the microphone. */
export function erle(mic: Int16Array, out: Int16Array, from: number, to: number): number {
  return 10 * Math.log10(energy(mic, from, to) / Math.max(1, energy(out, from, to)));
}

/**
 * During double talk: how much of the user's voice the output lost (dB; the
 * least-squares gain of `user` in `out`) and the user-to-residual ratio (dB).
 */
export function userLoss(out: Int16Array, user: Int16Array, from: number, to: number): { lossDb: number; snrDb: number } {
  let xy = 0;
  let yy = 0;
  for (let i = from; i < to; i++) {
    xy += out[i] * user[i];
    yy += user[i] * user[i];
  }
  const g = xy / yy;
  let residual = 0;
  for (let i = from; i < to; i++) residual += (out[i] - g * user[i]) ** 2;
  return { lossDb: g > 0 ? -20 * Math.log10(g) : Infinity, snrDb: 10 * Math.log10((g * g * yy) / residual) };
}

/** Where (in samples) the real Silero VAD, as the asr node runs it, hears speech start in `audio`. */
export function speechStarts(audio: Int16Array): number[] {
  const vad = new SileroVad(TEST_VAD);
  const starts: number[] = [];
  const samples = int16ToFloat32(audio);
  for (let i = 0; i < samples.length; i += 320) {
    for (const e of vad.push(samples.subarray(i, i + 320))) if (e.type === 'speech-start') starts.push(e.at);
  }
  return starts;
}
