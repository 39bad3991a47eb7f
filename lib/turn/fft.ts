/**
 * A complex FFT of any length (mixed-radix Cooley-Tukey, recursive on the
 * smallest prime factor). Whisper's 400-sample window is 2^4 * 5^2, which the
 * power-of-two FFT libraries on npm do not take; zero-padding to 512 would
 * change the spectrum the turn model was trained on.
 */
export class Fft {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;
  /** One pair of work buffers per recursion depth: siblings run one after another, so they can share. */
  private readonly levels: { re: Float64Array; im: Float64Array }[] = [];

  constructor(readonly size: number) {
    this.cos = new Float64Array(size);
    this.sin = new Float64Array(size);
    for (let k = 0; k < size; k++) {
      this.cos[k] = Math.cos((-2 * Math.PI * k) / size);
      this.sin[k] = Math.sin((-2 * Math.PI * k) / size);
    }
    this.scratchRe = new Float64Array(size);
    this.scratchIm = new Float64Array(size);
    for (let n = size; n > 1; n /= smallestFactor(n)) this.levels.push({ re: new Float64Array(n), im: new Float64Array(n) });
  }

  /** Transforms (re, im) in place: X[k] = sum x[n] e^(-2 pi i k n / N). */
  transform(re: Float64Array, im: Float64Array): void {
    this.step(re, im, 0, 1, this.size, this.scratchRe, this.scratchIm, 0, 0);
    re.set(this.scratchRe);
    im.set(this.scratchIm);
  }

  /** The DFT of the n inputs at offset, offset + stride, ... into out[at .. at + n). */
  private step(re: Float64Array, im: Float64Array, offset: number, stride: number, n: number, outRe: Float64Array, outIm: Float64Array, at: number, depth: number): void {
    const p = smallestFactor(n);
    const m = n / p;
    const twiddle = this.size / n;
    if (m === 1) {
      // A direct DFT of the prime length n.
      for (let k = 0; k < n; k++) {
        let sr = 0;
        let si = 0;
        for (let j = 0; j < n; j++) {
          const w = ((j * k) % n) * twiddle;
          const xr = re[offset + j * stride];
          const xi = im[offset + j * stride];
          sr += xr * this.cos[w] - xi * this.sin[w];
          si += xr * this.sin[w] + xi * this.cos[w];
        }
        outRe[at + k] = sr;
        outIm[at + k] = si;
      }
      return;
    }
    // p interleaved sub-sequences of length m, each transformed into its own block.
    const { re: subRe, im: subIm } = this.levels[depth];
    for (let r = 0; r < p; r++) this.step(re, im, offset + r * stride, stride * p, m, subRe, subIm, r * m, depth + 1);
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      const q = k % m;
      for (let r = 0; r < p; r++) {
        const w = ((r * k) % n) * twiddle;
        const xr = subRe[r * m + q];
        const xi = subIm[r * m + q];
        sr += xr * this.cos[w] - xi * this.sin[w];
        si += xr * this.sin[w] + xi * this.cos[w];
      }
      outRe[at + k] = sr;
      outIm[at + k] = si;
    }
  }
}

function smallestFactor(n: number): number {
  for (let p = 2; p * p <= n; p++) if (n % p === 0) return p;
  return n;
}
