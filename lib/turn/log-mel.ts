/**
 * The input Smart Turn v3 was trained on: Whisper's log-mel spectrogram of
 * the last 8 s of 16 kHz audio (80 Slaney mel bands, 25 ms Hann window,
 * 10 ms hop), as transformers' WhisperFeatureExtractor(chunk_length=8) makes
 * it and pipecat's _whisper_features.py reproduces in numpy:
 *  - shorter audio is zero-padded at the start (the end is what matters),
 *    longer audio keeps its last 8 s;
 *  - the 8 s are normalised to zero mean, unit variance (padding included);
 *  - centred frames (reflect-padded by half a window), |rFFT|^2, mel, log10,
 *    floored at 8 below the maximum, then (x + 4) / 4; the last frame dropped.
 * Returns 80 x 800 values, band-major (the model's [1, 80, 800] tensor).
 */
import { Fft } from './fft';

export const SAMPLE_RATE = 16000;
export const N_MELS = 80;
export const FRAMES = 800;
const N_FFT = 400;
const HOP = 160;
const BINS = N_FFT / 2 + 1;
const SAMPLES = 8 * SAMPLE_RATE;

const fft = new Fft(N_FFT);
/** Periodic Hann window (torch.hann_window). */
const HANN = Float64Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));
const MEL = slaneyFilterbank();

export function logMel(audio: Float32Array): Float32Array {
  const x = normalised(lastEightSeconds(audio));
  const pad = N_FFT / 2;
  // Frames wholly inside the leading padding are alike (a constant after normalisation): the first stands for all.
  const paddingEnds = SAMPLES - Math.min(audio.length, SAMPLES);
  const inPadding = (f: number) => f * HOP - pad >= 0 && f * HOP - pad + N_FFT <= paddingEnds;
  const representative = new Int32Array(FRAMES);
  const distinct: number[] = [];
  let padding = -1;
  for (let f = 0; f < FRAMES; f++) {
    if (inPadding(f) && padding >= 0) representative[f] = padding;
    else {
      if (inPadding(f)) padding = distinct.length;
      representative[f] = distinct.length;
      distinct.push(f);
    }
  }
  const columns = melColumns(x, distinct);
  let max = -Infinity;
  for (const v of columns) if (v > max) max = v;
  const out = new Float32Array(N_MELS * FRAMES);
  for (let f = 0; f < FRAMES; f++) {
    const c = representative[f] * N_MELS;
    for (let m = 0; m < N_MELS; m++) out[m * FRAMES + f] = (Math.max(columns[c + m], max - 8) + 4) / 4;
  }
  return out;
}

/**
 * log10 mel energies of the given frames (frame-major). Two real frames share
 * one complex FFT (one as the real part, one as the imaginary part), then are
 * told apart by the transform's symmetry: half the FFTs.
 */
function melColumns(x: Float32Array, frames: number[]): Float64Array {
  const pad = N_FFT / 2;
  const re = new Float64Array(N_FFT);
  const im = new Float64Array(N_FFT);
  const power = [new Float64Array(BINS), new Float64Array(BINS)];
  const out = new Float64Array(frames.length * N_MELS);
  for (let i = 0; i < frames.length; i += 2) {
    const a = frames[i];
    const b = frames[i + 1];
    for (let n = 0; n < N_FFT; n++) {
      re[n] = x[reflect(a * HOP + n - pad, SAMPLES)] * HANN[n];
      im[n] = b === undefined ? 0 : x[reflect(b * HOP + n - pad, SAMPLES)] * HANN[n];
    }
    fft.transform(re, im);
    for (let k = 0; k < BINS; k++) {
      const j = (N_FFT - k) % N_FFT;
      const [ar, ai] = [(re[k] + re[j]) / 2, (im[k] - im[j]) / 2];
      const [br, bi] = [(im[k] + im[j]) / 2, (re[j] - re[k]) / 2];
      power[0][k] = ar * ar + ai * ai;
      power[1][k] = br * br + bi * bi;
    }
    for (let half = 0; half < (b === undefined ? 1 : 2); half++) {
      const at = (i + half) * N_MELS;
      for (let m = 0; m < N_MELS; m++) {
        const row = MEL[m];
        let sum = 0;
        for (let k = row.from; k < row.to; k++) sum += row.weights[k - row.from] * power[half][k];
        out[at + m] = Math.log10(Math.max(1e-10, sum));
      }
    }
  }
  return out;
}

function lastEightSeconds(audio: Float32Array): Float32Array {
  if (audio.length >= SAMPLES) return audio.subarray(audio.length - SAMPLES);
  const out = new Float32Array(SAMPLES);
  out.set(audio, SAMPLES - audio.length);
  return out;
}

/** Zero mean, unit variance, in float32 as the reference does (variance epsilon 1e-7). */
function normalised(x: Float32Array): Float32Array {
  let sum = 0;
  for (const v of x) sum += v;
  const mean = Math.fround(sum / x.length);
  let sq = 0;
  for (const v of x) sq += (v - mean) * (v - mean);
  const scale = Math.sqrt(Math.fround(sq / x.length) + 1e-7);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - mean) / scale;
  return out;
}

/** numpy's pad(mode="reflect"): the edge sample is not repeated. */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

interface MelRow {
  from: number;
  to: number;
  weights: Float64Array;
}

/** Triangular filters on the Slaney mel scale, area-normalised (librosa's norm="slaney"), 0 to 8 kHz. */
function slaneyFilterbank(): MelRow[] {
  const toMel = (hz: number) => (hz < 1000 ? (3 * hz) / 200 : 15 + (Math.log(hz / 1000) * 27) / Math.log(6.4));
  const toHz = (mel: number) => (mel < 15 ? (200 * mel) / 3 : 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15)));
  const top = toMel(SAMPLE_RATE / 2);
  const edges = Array.from({ length: N_MELS + 2 }, (_, i) => toHz((top * i) / (N_MELS + 1)));
  const binHz = Array.from({ length: BINS }, (_, b) => (b * (SAMPLE_RATE / 2)) / (BINS - 1));
  const rows: MelRow[] = [];
  for (let m = 0; m < N_MELS; m++) {
    const [lo, mid, hi] = [edges[m], edges[m + 1], edges[m + 2]];
    const norm = 2 / (hi - lo);
    const w = binHz.map((hz) => Math.max(0, Math.min((hz - lo) / (mid - lo), (hi - hz) / (hi - mid))) * norm);
    let from = w.findIndex((v) => v > 0);
    if (from < 0) from = 0;
    let to = w.length;
    while (to > from && w[to - 1] === 0) to--;
    rows.push({ from, to, weights: Float64Array.from(w.slice(from, to)) });
  }
  return rows;
}
