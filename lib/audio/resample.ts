/**
 * Streaming sample-rate converter (polyphase windowed sinc).
 *
 * Why our own: audio arrives in 10-30 ms frames and must be converted frame
 * by frame with the filter state carried across frames, synchronously, on the
 * hot path. The npm options either convert whole buffers only (clicks at every
 * frame edge), or need an async WASM start-up. This is ~80 lines, allocation
 * free per sample, and its accuracy is tested against ideal sines.
 */
export class Resampler {
  /** Output samples per `down` input samples, reduced by their gcd. */
  private readonly up: number;
  private readonly down: number;
  /** Half the filter length, in input samples. */
  private readonly half: number;
  /** taps[phase * width + k]: weight of input sample base-half+1+k for output phase `phase`. */
  private readonly taps: Float32Array;
  private readonly width: number;
  /** Input samples kept from earlier calls (history for the filter). */
  private pending: Float32Array;
  /** Output count so far, modulo `up`, and the input index of the next output's base. */
  private phase = 0;
  private base: number;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
  ) {
    const g = gcd(inputRate, outputRate);
    this.up = outputRate / g;
    this.down = inputRate / g;
    const ratio = Math.min(1, outputRate / inputRate);
    // Wider kernels when downsampling keep the transition band narrow in output terms.
    this.half = Math.ceil(12 / ratio);
    this.width = 2 * this.half;
    this.taps = makeTaps(this.up, this.half, 0.5 * ratio * 0.92);
    // Start with `half` zeros of history so the first output is aligned with input sample 0.
    this.pending = new Float32Array(this.half);
    this.base = this.half;
  }

  get passthrough(): boolean {
    return this.up === this.down;
  }

  /** Converts the next chunk; returns as many output samples as the input allows so far. */
  push(input: Float32Array): Float32Array {
    if (this.passthrough) return input;
    const data = new Float32Array(this.pending.length + input.length);
    data.set(this.pending, 0);
    data.set(input, this.pending.length);
    const maxOut = Math.ceil(((data.length - this.base) * this.up) / this.down) + 1;
    const out = new Float32Array(Math.max(0, maxOut));
    let n = 0;
    const { taps, width, half, up, down } = this;
    while (this.base + half < data.length) {
      const start = this.base - half + 1;
      const offset = this.phase * width;
      let acc = 0;
      for (let k = 0; k < width; k++) acc += data[start + k] * taps[offset + k];
      out[n++] = acc;
      this.phase += down;
      this.base += Math.floor(this.phase / up);
      this.phase %= up;
    }
    // Keep what the next outputs still need: `half` samples before the next base.
    const keepFrom = Math.min(this.base - half + 1, data.length);
    this.pending = data.slice(keepFrom);
    this.base -= keepFrom;
    return out.subarray(0, n);
  }

  /** Drains the filter at the end of a stream (pads with silence). */
  flush(): Float32Array {
    if (this.passthrough) return new Float32Array(0);
    return this.push(new Float32Array(this.half));
  }
}

function makeTaps(phases: number, half: number, cutoff: number): Float32Array {
  const width = 2 * half;
  const taps = new Float32Array(phases * width);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let k = 0; k < width; k++) {
      // Distance from the output instant to input sample (base - half + 1 + k).
      const x = k - half + 1 - frac;
      const w = blackman(x / half);
      const v = w * 2 * cutoff * sinc(2 * cutoff * x);
      taps[p * width + k] = v;
      sum += v;
    }
    // Unity gain at DC for every phase, so a constant stays constant.
    for (let k = 0; k < width; k++) taps[p * width + k] /= sum;
  }
  return taps;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

function blackman(t: number): number {
  if (t <= -1 || t >= 1) return 0;
  return 0.42 + 0.5 * Math.cos(Math.PI * t) + 0.08 * Math.cos(2 * Math.PI * t);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** One-shot conversion of a whole buffer. */
export function resample(samples: Float32Array, inputRate: number, outputRate: number): Float32Array {
  if (inputRate === outputRate) return samples;
  const r = new Resampler(inputRate, outputRate);
  const head = r.push(samples);
  const tail = r.flush();
  const expected = Math.round((samples.length * outputRate) / inputRate);
  const out = new Float32Array(expected);
  out.set(head.subarray(0, expected), 0);
  if (head.length < expected) out.set(tail.subarray(0, expected - head.length), head.length);
  return out;
}
