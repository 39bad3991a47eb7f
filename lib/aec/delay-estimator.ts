import { RealFft } from './real-fft';

/** Samples per estimate (about a second at 16 kHz), and how often one is made. */
const WINDOW = 16384;
const HOP = 8192;
/** Mean square (int16 units) the reference must reach over the window: no estimate from silence. */
const MIN_REFERENCE_LEVEL = 1000;
/** A peak counts when it stands this far above the average correlation. */
const MIN_PEAK_RATIO = 6;
/**
 * Estimates in a row that must agree (within AGREE samples) before one is
 * reported: moving the delay makes the filter start over, so a stray peak
 * (a repetitive sound, a reflection) must not.
 */
const AGREEING = 3;
const AGREE = 64;

/**
 * Finds how much later the speaker's sound reaches the microphone than the
 * reference says it was played (device buffers, driver, air): the peak of
 * the phase-transform-weighted cross-correlation (GCC-PHAT) over the last
 * second, which is sharp for speech and ignores the room's colouring.
 */
export class DelayEstimator {
  private readonly fft: RealFft;
  private readonly mic = new Float64Array(WINDOW);
  private readonly ref = new Float64Array(WINDOW);
  private readonly frame: Float64Array;
  private readonly micSpectrum: Float64Array;
  private readonly refSpectrum: Float64Array;
  private readonly correlation: Float64Array;
  private filled = 0;
  private sinceEstimate = 0;
  private recent: number[] = [];

  constructor(
    private readonly maxDelay: number,
    blockHint: number,
  ) {
    let size = 1;
    while (size < WINDOW + maxDelay + blockHint) size *= 2;
    this.fft = new RealFft(size);
    this.frame = new Float64Array(size);
    this.micSpectrum = this.fft.spectrum();
    this.refSpectrum = this.fft.spectrum();
    this.correlation = new Float64Array(size);
  }

  /** Adds one block of each; returns the delay in samples when a new estimate is sure of it. */
  push(mic: Float64Array, ref: Float64Array): number | undefined {
    const n = mic.length;
    this.mic.copyWithin(0, n);
    this.mic.set(mic, WINDOW - n);
    this.ref.copyWithin(0, n);
    this.ref.set(ref, WINDOW - n);
    this.filled = Math.min(WINDOW, this.filled + n);
    this.sinceEstimate += n;
    if (this.filled < WINDOW || this.sinceEstimate < HOP) return undefined;
    this.sinceEstimate = 0;
    const found = this.estimate();
    if (found === undefined) return undefined;
    this.recent = [...this.recent, found].slice(-AGREEING);
    const agreed = this.recent.length === AGREEING && this.recent.every((d) => Math.abs(d - found) <= AGREE);
    return agreed ? found : undefined;
  }

  private estimate(): number | undefined {
    let level = 0;
    for (const v of this.ref) level += v * v;
    if (level / WINDOW < MIN_REFERENCE_LEVEL) return undefined;
    this.frame.fill(0);
    this.frame.set(this.mic);
    this.fft.forward(this.frame, this.micSpectrum);
    this.frame.fill(0);
    this.frame.set(this.ref);
    this.fft.forward(this.frame, this.refSpectrum);
    const m = this.micSpectrum;
    const r = this.refSpectrum;
    for (let k = 0; k < this.fft.bins; k++) {
      const re = m[2 * k] * r[2 * k] + m[2 * k + 1] * r[2 * k + 1];
      const im = m[2 * k + 1] * r[2 * k] - m[2 * k] * r[2 * k + 1];
      const mag = Math.hypot(re, im) + 1e-9;
      m[2 * k] = re / mag;
      m[2 * k + 1] = im / mag;
    }
    this.fft.inverse(m, this.correlation);
    let best = 0;
    let sum = 0;
    for (let lag = 0; lag <= this.maxDelay; lag++) {
      const c = this.correlation[lag];
      sum += Math.abs(c);
      if (c > this.correlation[best]) best = lag;
    }
    const mean = sum / (this.maxDelay + 1);
    return this.correlation[best] > MIN_PEAK_RATIO * mean ? best : undefined;
  }
}
