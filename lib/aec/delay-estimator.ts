import { RealFft } from './real-fft';

/** Samples per estimate (about a second at 16 kHz: well over the largest delay), and how often one is made. */
const WINDOW = 16384;
const HOP = 4096;
/** Mean square (int16 units) the reference must reach over the window: no estimate from silence. */
const MIN_REFERENCE_LEVEL = 1000;
/**
 * How far the peak must stand above the average correlation: to show that the
 * microphone hears the speaker at all, and to be trusted as its delay. Echo
 * alone gives 30-300; double talk brings true peaks down to 10-16 and makes
 * stray ones (up to 24, measured): a delay must also be found three times in a row.
 */
const ECHO_PEAK = 12;
const DELAY_PEAK = 15;
/** Windows with a loud reference and no peak before the microphone counts as not hearing the speaker. */
const ECHO_LESS_WINDOWS = 2;
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
  /** Where the next block goes in the `mic` and `ref` rings (the oldest sample is there too). */
  private write = 0;
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

  /** The latest estimate, sure or not (undefined while the reference is quiet or no peak stands out). */
  latest: number | undefined;
  /**
   * Whether the microphone hears the speaker at all: undefined until the
   * reference has been loud for a window, then false once ECHO_LESS_WINDOWS loud
   * windows in a row showed no echo (a headset, a speaker in another room), true when one does.
   */
  echoHeard: boolean | undefined;
  private silentWindows = 0;

  /** Adds one block of each (a size that divides WINDOW); returns the delay in samples when a new estimate is sure of it. */
  push(mic: Float64Array, ref: Float64Array): number | undefined {
    // Rings, unrolled only when an estimate is made (shifting a second of audio per 8 ms block would not be free).
    const n = mic.length;
    this.mic.set(mic, this.write);
    this.ref.set(ref, this.write);
    this.write = (this.write + n) % WINDOW;
    this.filled = Math.min(WINDOW, this.filled + n);
    this.sinceEstimate += n;
    if (this.filled < WINDOW || this.sinceEstimate < HOP) return undefined;
    this.sinceEstimate = 0;
    const peak = this.estimate();
    if (!peak) {
      this.latest = undefined;
      return undefined;
    }
    if (peak.ratio >= ECHO_PEAK) {
      this.silentWindows = 0;
      this.echoHeard = true;
    } else if (++this.silentWindows >= ECHO_LESS_WINDOWS) this.echoHeard = false;
    const found = peak.ratio >= DELAY_PEAK ? peak.lag : undefined;
    this.latest = found;
    if (found === undefined) return undefined;
    this.recent = [...this.recent, found].slice(-AGREEING);
    const agreed = this.recent.length === AGREEING && this.recent.every((d) => Math.abs(d - found) <= AGREE);
    return agreed ? found : undefined;
  }

  /** A ring, oldest sample first, into the zero-padded FFT frame. */
  private unroll(ring: Float64Array): void {
    this.frame.fill(0);
    this.frame.set(ring.subarray(this.write));
    this.frame.set(ring.subarray(0, this.write), WINDOW - this.write);
  }

  /** The correlation peak and how far it stands above the average, or undefined while the reference is quiet. */
  private estimate(): { lag: number; ratio: number } | undefined {
    let level = 0;
    for (const v of this.ref) level += v * v;
    if (level / WINDOW < MIN_REFERENCE_LEVEL) return undefined;
    this.unroll(this.mic);
    this.fft.forward(this.frame, this.micSpectrum);
    this.unroll(this.ref);
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
    return { lag: best, ratio: this.correlation[best] / mean };
  }
}
