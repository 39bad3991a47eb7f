import { RealFft } from './real-fft';

/** Over-subtraction of the residual echo estimate, and the deepest cut per bin. */
const OVER_SUBTRACT = 2;
const MIN_GAIN = 0.05;
/** How much of the last block's residual estimate carries into the next (the echo's reverberant tail). */
const TAIL_DECAY = 0.5;
/**
 * While the far end talks and the user does not, what is left is echo the
 * linear filter missed: cut it this far (-60 dB; Silero hears speech at
 * -30 dB) so that no voice activity detector fires on the assistant's voice.
 */
const ECHO_ONLY_GAIN = 0.001;

/**
 * Residual echo suppression: a spectral gain on the linear canceller's output
 * that removes what is left of the echo, estimated as the "leak" share of the
 * echo estimate in each frequency bin. The user's voice, where it is louder
 * than that estimate, passes untouched. Works in overlapping windows
 * (sqrt-Hann, 50 %), so its output is one block late.
 */
export class ResidualSuppressor {
  private readonly fft: RealFft;
  private readonly window: Float64Array;
  private readonly errFrame: Float64Array;
  private readonly echoFrame: Float64Array;
  private readonly errSpectrum: Float64Array;
  private readonly echoSpectrum: Float64Array;
  private readonly residual: Float64Array;
  private readonly time: Float64Array;
  private readonly overlap: Float64Array;

  constructor(readonly block: number) {
    const n = 2 * block;
    this.fft = new RealFft(n);
    this.window = Float64Array.from({ length: n }, (_, i) => Math.sin((Math.PI * (i + 0.5)) / n));
    this.errFrame = new Float64Array(n);
    this.echoFrame = new Float64Array(n);
    this.errSpectrum = this.fft.spectrum();
    this.echoSpectrum = this.fft.spectrum();
    this.residual = new Float64Array(this.fft.bins);
    this.time = new Float64Array(n);
    this.overlap = new Float64Array(block);
  }

  /**
   * `error` (the linear canceller's output), `echo` (its echo estimate), `leak`
   * (the share of the echo it misses) and whether only the far end talks; writes
   * the cleaned block — the one before this call's — into `out`.
   */
  process(error: Float64Array, echo: Float64Array, leak: number, echoOnly: boolean, out: Float64Array): void {
    const L = this.block;
    this.errFrame.copyWithin(0, L);
    this.errFrame.set(error, L);
    this.echoFrame.copyWithin(0, L);
    this.echoFrame.set(echo, L);
    for (let i = 0; i < 2 * L; i++) this.time[i] = this.errFrame[i] * this.window[i];
    this.fft.forward(this.time, this.errSpectrum);
    for (let i = 0; i < 2 * L; i++) this.time[i] = this.echoFrame[i] * this.window[i];
    this.fft.forward(this.time, this.echoSpectrum);

    const e = this.errSpectrum;
    const y = this.echoSpectrum;
    const cap = echoOnly ? ECHO_ONLY_GAIN : 1;
    for (let k = 0; k < this.fft.bins; k++) {
      const ePow = e[2 * k] ** 2 + e[2 * k + 1] ** 2 + 1e-9;
      this.residual[k] = Math.max(leak * (y[2 * k] ** 2 + y[2 * k + 1] ** 2), TAIL_DECAY * this.residual[k]);
      const gain = Math.min(cap, Math.max(MIN_GAIN, 1 - (OVER_SUBTRACT * this.residual[k]) / ePow));
      e[2 * k] *= gain;
      e[2 * k + 1] *= gain;
    }
    this.fft.inverse(e, this.time);
    for (let i = 0; i < L; i++) out[i] = this.overlap[i] + this.time[i] * this.window[i];
    for (let i = 0; i < L; i++) this.overlap[i] = this.time[L + i] * this.window[L + i];
  }
}
