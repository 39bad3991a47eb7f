import { RealFft } from './real-fft';

export interface EchoPathSettings {
  /** Samples per block (the FFT is twice this). */
  block: number;
  /** Blocks of echo path the filter models: taps = block * partitions. */
  partitions: number;
  /** Scale of the learning filter's step: the estimated optimal step (see stepSizes()) times this. */
  mu: number;
}

/** Error energy ratios (smoothed) that move the two filters. */
const ADOPT_WHEN_BETTER = 0.7;
/**
 * In double talk the learning filter's error holds the user's voice too, so
 * it can only be this much better when the serving filter has gone stale
 * (the echo path moved or drifts): then it is adopted even so — otherwise a
 * path change that looks like double talk would freeze a bad filter for good.
 */
const ADOPT_IN_DOUBLE_TALK = 0.25;
const RESET_WHEN_WORSE = 4;
/** Smoothing of the error energies compared above, per block. */
const ENERGY_SMOOTHING = 0.3;
/** Smoothing of the per-bin power means the leak is measured against. */
const SPECTRUM_SMOOTHING = 0.35;
/** Leak learning rate per block, scaled by echo-to-error energy, and its cap. */
const LEAK_RATE = 0.016;
const LEAK_RATE_MAX = 0.004;
const MIN_LEAK = 0.005;
/** Before it is adapted: step relative to the far end's energy, and when to stop using it. */
const INITIAL_RATE = 0.25;
const ADAPTED_LEAK = 0.5;
/** Smoothing of the reference power that normalises the step, per block, as it falls (it rises at once). */
const POWER_SMOOTHING = 0.1;
/**
 * How much of the step goes where the filter already holds energy (IPNLMS,
 * Benesty and Gay 2002, per partition): -1 = evenly, 1 = in proportion. A
 * room's path is sparse (a delay, then a decaying tail): an even step spreads
 * what one voice's spectrum cannot pin down over every partition, and a new
 * voice then finds the filter wrong there.
 */
const PROPORTIONATE = 0.5;

/**
 * Linear echo cancellation: a partitioned-block frequency-domain adaptive
 * filter (PBFDAF, NLMS normalised per frequency bin) learns the path from
 * the loudspeaker signal to the microphone and subtracts its estimate.
 *
 * Double talk: the user's voice is uncorrelated noise to the learning rule and
 * drives a filter away from the echo path. So two filters run (as speexdsp's
 * MDF does): a "learning" one that always adapts, and a "serving" one that
 * produces the output and only ever takes the learning one's coefficients
 * when they cancel clearly better; a learning filter that has drifted far
 * worse is reset to the serving one.
 */
export class EchoPathFilter {
  readonly block: number;
  private readonly fft: RealFft;
  private readonly partitions: number;
  private readonly mu: number;
  /** Reference spectra of the last `partitions` blocks, newest at `newest`. */
  private readonly x: Float64Array[];
  private newest = 0;
  private readonly serving: Float64Array[];
  private readonly learning: Float64Array[];
  private readonly power: Float64Array;
  private readonly refWindow: Float64Array;
  private readonly acc: Float64Array;
  private readonly time: Float64Array;
  private readonly errSpectrum: Float64Array;
  private readonly gradient: Float64Array;
  private readonly learnedError: Float64Array;
  private readonly learnedEcho: Float64Array;
  /** The serving filter's echo estimate of the last block (time domain). */
  readonly echo: Float64Array;
  private servingEnergy = 0;
  private learningEnergy = 0;
  private readonly steps: Float64Array;
  private readonly errPower: Float64Array;
  private readonly echoPower: Float64Array;
  private readonly errMean: Float64Array;
  private readonly echoMean: Float64Array;
  // Start by assuming everything leaks: the leak only falls as the filter shows it cancels.
  private pey = 1;
  private pyy = 1;
  /** Share of the echo estimate's power that is left in the error. */
  leak = 1;
  private adapted = false;
  private learned = 0;
  /** Regularisation of the per-bin step: about a 10 LSB noise floor. */
  private readonly floor: number;
  /** Each partition's share of the step (they average 1). */
  private readonly shares: Float64Array;

  constructor(settings: EchoPathSettings) {
    this.block = settings.block;
    this.partitions = settings.partitions;
    this.mu = settings.mu;
    this.fft = new RealFft(2 * settings.block);
    const spectra = () => Array.from({ length: settings.partitions }, () => this.fft.spectrum());
    this.x = spectra();
    this.serving = spectra();
    this.learning = spectra();
    this.power = new Float64Array(this.fft.bins);
    this.refWindow = new Float64Array(2 * settings.block);
    this.acc = this.fft.spectrum();
    this.time = new Float64Array(2 * settings.block);
    this.errSpectrum = this.fft.spectrum();
    this.gradient = this.fft.spectrum();
    this.learnedError = new Float64Array(settings.block);
    this.learnedEcho = new Float64Array(settings.block);
    this.echo = new Float64Array(settings.block);
    this.floor = 2 * settings.block * 100;
    const bins = () => new Float64Array(this.fft.bins);
    this.steps = bins();
    this.errPower = bins();
    this.echoPower = bins();
    this.errMean = bins();
    this.echoMean = bins();
    this.shares = new Float64Array(settings.partitions).fill(1);
  }

  /**
   * One block: `reference` (what the speaker played, aligned so that its echo
   * comes later in `mic`) and `mic`; writes mic minus the echo estimate into
   * `out`. All three hold `block` samples. During `doubleTalk` the serving
   * filter takes the learning one's coefficients only when they are far better.
   */
  process(reference: Float64Array, mic: Float64Array, out: Float64Array, doubleTalk = false): void {
    const L = this.block;
    this.refWindow.copyWithin(0, L);
    this.refWindow.set(reference, L);
    this.newest = (this.newest + 1) % this.partitions;
    const x0 = this.x[this.newest];
    this.fft.forward(this.refWindow, x0);
    for (let k = 0; k < this.fft.bins; k++) {
      const p = x0[2 * k] ** 2 + x0[2 * k + 1] ** 2;
      // A new voice puts energy in bins that were quiet: a power that lagged behind it
      // would make the step there far too big, and the filter would blow up.
      this.power[k] = p > this.power[k] ? p : this.power[k] + POWER_SMOOTHING * (p - this.power[k]);
    }

    this.estimate(this.serving, mic, out);
    this.echo.set(this.time.subarray(L));
    this.estimate(this.learning, mic, this.learnedError);
    this.learnedEcho.set(this.time.subarray(L));
    this.stepSizes(reference);
    this.adapt(this.learnedError);
    this.arbitrate(out, doubleTalk ? ADOPT_IN_DOUBLE_TALK : ADOPT_WHEN_BETTER);
  }

  /** Echo estimate of `filter` for the newest block into `this.time`; mic minus it into `error`. */
  private estimate(filter: Float64Array[], mic: Float64Array, error: Float64Array): void {
    const acc = this.acc;
    acc.fill(0);
    for (let p = 0; p < this.partitions; p++) {
      const w = filter[p];
      const x = this.x[(this.newest - p + this.partitions) % this.partitions];
      for (let k = 0; k < this.fft.bins; k++) {
        const re = 2 * k;
        const im = re + 1;
        acc[re] += w[re] * x[re] - w[im] * x[im];
        acc[im] += w[re] * x[im] + w[im] * x[re];
      }
    }
    this.fft.inverse(acc, this.time);
    // Overlap-save: only the second half of the circular convolution is valid.
    for (let i = 0; i < this.block; i++) error[i] = mic[i] - this.time[this.block + i];
  }

  /**
   * How far to move per bin (after the method of Valin, "On adjusting the
   * learning rate in frequency domain echo cancellation with double-talk",
   * 2007): the optimal NLMS step is the residual echo's share of the error.
   * The residual echo is the "leak" share of the echo estimate; the leak is
   * measured as how much the error's power follows the estimate's power —
   * which the user's voice, unrelated to the echo, does not. So the step
   * shrinks by itself in double talk and as the filter converges. Until the
   * filter has learned something, a fixed step driven by the far end.
   */
  private stepSizes(reference: Float64Array): void {
    const L = this.block;
    this.time.fill(0, 0, L);
    this.time.set(this.learnedError, L);
    this.fft.forward(this.time, this.errSpectrum);
    this.time.set(this.learnedEcho, L);
    this.fft.forward(this.time, this.gradient);
    let sxx = 0, see = 0, syy = 0, sey = 0;
    for (let i = 0; i < L; i++) {
      sxx += reference[i] ** 2;
      see += this.learnedError[i] ** 2;
      syy += this.learnedEcho[i] ** 2;
      sey += this.learnedError[i] * this.learnedEcho[i];
    }
    see += 1;
    let pey = 0, pyy = 0;
    for (let k = 0; k < this.fft.bins; k++) {
      const e = this.errSpectrum[2 * k] ** 2 + this.errSpectrum[2 * k + 1] ** 2;
      const y = this.gradient[2 * k] ** 2 + this.gradient[2 * k + 1] ** 2;
      this.errPower[k] = e;
      this.echoPower[k] = y;
      const eh = e - this.errMean[k];
      const yh = y - this.echoMean[k];
      pey += eh * yh;
      pyy += yh * yh;
      this.errMean[k] += SPECTRUM_SMOOTHING * (e - this.errMean[k]);
      this.echoMean[k] += SPECTRUM_SMOOTHING * (y - this.echoMean[k]);
    }
    pyy = Math.sqrt(pyy);
    pey = pyy > 0 ? pey / pyy : 0;
    // Learn the leak slowly, and slower still while the error is much louder than the echo (double talk).
    const alpha = Math.min(LEAK_RATE * syy / see, LEAK_RATE_MAX);
    this.pey += alpha * (pey - this.pey);
    this.pyy += alpha * (pyy - this.pyy);
    if (this.pyy < 1) this.pyy = 1;
    this.pey = Math.min(Math.max(this.pey, MIN_LEAK * this.pyy), this.pyy);
    this.leak = this.pey / this.pyy;

    if (!this.adapted) {
      const rate = sxx > L * 1000 ? (this.mu * Math.min(INITIAL_RATE * sxx, INITIAL_RATE * see)) / see : 0;
      this.steps.fill(rate);
      this.learned += rate;
      if (this.learned > this.partitions && this.leak < ADAPTED_LEAK) this.adapted = true;
      return;
    }
    // Residual-to-error ratio of the whole block: a floor for the per-bin estimate.
    const rer = Math.min(Math.max((1e-4 * sxx + 3 * this.leak * syy) / see, (sey * sey) / (see * (syy + 1))), 0.5);
    for (let k = 0; k < this.fft.bins; k++) {
      const e = this.errPower[k] + 1;
      const r = 0.7 * Math.min(this.leak * this.echoPower[k], 0.5 * e) + 0.3 * rer * e;
      this.steps[k] = (this.mu * r) / e;
    }
  }

  /** Constrained NLMS step of the learning filter on its own error. */
  private adapt(error: Float64Array): void {
    const L = this.block;
    this.time.fill(0, 0, L);
    this.time.set(error, L);
    this.fft.forward(this.time, this.errSpectrum);
    const e = this.errSpectrum;
    this.proportionateShares();
    for (let p = 0; p < this.partitions; p++) {
      const x = this.x[(this.newest - p + this.partitions) % this.partitions];
      const g = this.gradient;
      const share = this.shares[p];
      for (let k = 0; k < this.fft.bins; k++) {
        const re = 2 * k;
        const im = re + 1;
        const step = (share * this.steps[k]) / (this.partitions * this.power[k] + this.floor);
        // conj(X) · E
        g[re] = step * (x[re] * e[re] + x[im] * e[im]);
        g[im] = step * (x[re] * e[im] - x[im] * e[re]);
      }
      // The gradient's impulse response must fit in one block (linear, not circular, convolution).
      this.fft.inverse(g, this.time);
      this.time.fill(0, L);
      this.fft.forward(this.time, g);
      const w = this.learning[p];
      for (let k = 0; k < 2 * this.fft.bins; k++) w[k] += g[k];
    }
  }

  /** Partition p's share: (1 - a) / 2 + (1 + a) / 2 · P · |w_p| / Σ|w| (a = PROPORTIONATE); even while the filter is empty. */
  private proportionateShares(): void {
    let total = 0;
    for (let p = 0; p < this.partitions; p++) {
      const w = this.learning[p];
      let energy = 0;
      for (let k = 0; k < w.length; k++) energy += w[k] * w[k];
      this.shares[p] = Math.sqrt(energy);
      total += this.shares[p];
    }
    for (let p = 0; p < this.partitions; p++) {
      this.shares[p] = total > 0 ? (1 - PROPORTIONATE) / 2 + ((1 + PROPORTIONATE) / 2) * ((this.partitions * this.shares[p]) / total) : 1;
    }
  }

  private arbitrate(servingError: Float64Array, adoptBelow: number): void {
    let sf = 0;
    let sl = 0;
    for (let i = 0; i < this.block; i++) {
      sf += servingError[i] ** 2;
      sl += this.learnedError[i] ** 2;
    }
    this.servingEnergy += ENERGY_SMOOTHING * (sf - this.servingEnergy);
    this.learningEnergy += ENERGY_SMOOTHING * (sl - this.learningEnergy);
    if (this.learningEnergy < adoptBelow * this.servingEnergy) {
      copyFilter(this.learning, this.serving);
      servingError.set(this.learnedError);
      this.echo.set(this.learnedEcho);
      this.servingEnergy = this.learningEnergy;
    } else if (this.learningEnergy > RESET_WHEN_WORSE * this.servingEnergy) {
      copyFilter(this.serving, this.learning);
      this.learningEnergy = this.servingEnergy;
    }
  }

  /**
   * A block in which the reference has been silent for longer than the filter
   * spans: every stored reference spectrum is zero already, so the only change
   * process() would make is a zero echo estimate.
   */
  idle(): void {
    this.echo.fill(0);
  }

  get partitionCount(): number {
    return this.partitions;
  }

  /** Forgets the echo path (after the reference moved against the mic). */
  reset(): void {
    for (const s of [...this.serving, ...this.learning, ...this.x]) s.fill(0);
    this.power.fill(0);
    this.refWindow.fill(0);
    this.servingEnergy = 0;
    this.learningEnergy = 0;
    for (const b of [this.errMean, this.echoMean]) b.fill(0);
    this.pey = 1;
    this.pyy = 1;
    this.leak = 1;
    this.adapted = false;
    this.learned = 0;
  }
}

function copyFilter(from: Float64Array[], to: Float64Array[]): void {
  for (let p = 0; p < from.length; p++) to[p].set(from[p]);
}
