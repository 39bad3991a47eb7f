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
  const at = (i: number) => x[reflect(i - pad, SAMPLES)];
  const mel = new Float64Array(N_MELS * FRAMES);
  const re = new Float64Array(N_FFT);
  const im = new Float64Array(N_FFT);
  const power = new Float64Array(BINS);
  // Frames wholly inside the leading padding are alike (a constant after normalisation): computed once.
  const paddingEnds = SAMPLES - Math.min(audio.length, SAMPLES);
  let constantFrame: Float64Array | undefined;
  let max = -Infinity;
  for (let f = 0; f < FRAMES; f++) {
    const first = f * HOP - pad;
    const reusable = first >= 0 && first + N_FFT <= paddingEnds;
    let column = reusable ? constantFrame : undefined;
    if (!column) {
      for (let n = 0; n < N_FFT; n++) {
        re[n] = at(f * HOP + n) * HANN[n];
        im[n] = 0;
      }
      fft.transform(re, im);
      for (let b = 0; b < BINS; b++) power[b] = re[b] * re[b] + im[b] * im[b];
      column = new Float64Array(N_MELS);
      for (let m = 0; m < N_MELS; m++) {
        let sum = 0;
        const row = MEL[m];
        for (let b = row.from; b < row.to; b++) sum += row.weights[b - row.from] * power[b];
        column[m] = Math.log10(Math.max(1e-10, sum));
      }
      if (reusable) constantFrame = column;
    }
    for (let m = 0; m < N_MELS; m++) {
      mel[m * FRAMES + f] = column[m];
      if (column[m] > max) max = column[m];
    }
  }
  const out = new Float32Array(N_MELS * FRAMES);
  for (let i = 0; i < out.length; i++) out[i] = (Math.max(mel[i], max - 8) + 4) / 4;
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
