import FFT from 'fft.js';

/**
 * Real-signal FFT of a fixed size. Spectra are interleaved (re, im) arrays of
 * `2 * size` numbers of which only bins 0..size/2 are meaningful: the echo
 * canceller works on those and the inverse restores the mirrored half.
 */
export class RealFft {
  readonly bins: number;
  private readonly fft: FFT;
  private readonly scratch: Float64Array;
  private readonly complexOut: Float64Array;

  constructor(readonly size: number) {
    this.fft = new FFT(size);
    this.bins = size / 2 + 1;
    this.scratch = new Float64Array(2 * size);
    this.complexOut = new Float64Array(2 * size);
  }

  spectrum(): Float64Array {
    return new Float64Array(2 * this.size);
  }

  forward(input: Float64Array, out: Float64Array): void {
    this.fft.realTransform(out, input);
  }

  /** Real part of the inverse transform of `spectrum` (bins 0..size/2 used) into `out`. */
  inverse(spectrum: Float64Array, out: Float64Array): void {
    this.scratch.set(spectrum.subarray(0, this.size + 2));
    this.fft.completeSpectrum(this.scratch);
    this.fft.inverseTransform(this.complexOut, this.scratch);
    for (let i = 0; i < this.size; i++) out[i] = this.complexOut[2 * i];
  }
}
