/** Blocks the short-term energies are smoothed over (about 32 ms at 8 ms blocks). */
const SHORT = 0.25;
/** The long-term echo return loss enhancement rises quickly to what the filter shows it can do, and sinks slowly. */
const ERLE_RISE = 0.05;
const ERLE_SINK = 0.002;
/** The user talks when the output is this much louder than echo alone would leave it (9 dB)... */
const NEAR_END_MARGIN = 8;
/** ...and the microphone is this far from a copy of the echo estimate (another voice: 0.9 ≈ one 6 dB below the echo)... */
const NEAR_END_CORRELATION = 0.9;
/** ...and louder than the noise floor by as much. */
const ABOVE_NOISE = 8;
/** Below this echo reduction (10 dB) the filter has not learnt the room: nothing counts as the user while the far end plays. */
const LEARNT_ERLE = 10;
/** Smoothing of the energies the echo return loss is measured on (about 80 ms: covers the echo's tail). */
const LONG = 0.1;
/** While the filter relearns, the user talks when the microphone is this much louder (6 dB) than the loudest echo seen... */
const ABOVE_ECHO = 4;
/** Noise floor tracker: follows drops at once, rises by this factor per block (about 5 dB/s). */
const NOISE_RISE = 1.01;
/** Blocks "the user talks" outlasts the evidence (keeps word endings, 160 ms). */
const HANGOVER = 20;

/**
 * Tells the user's voice from what is left of the echo. While only the
 * assistant talks, the linear filter makes the output some ERLE quieter
 * than the microphone; the detector learns that ratio (an upper envelope,
 * so double talk does not drag it down). When the output is much louder
 * than the microphone divided by it, something other than the echo is
 * talking. While the filter relearns (the echo moved: a device hiccup),
 * the room is still the same: the user talks when the microphone is well
 * above the loudest echo the speaker has made (the echo return loss, learnt
 * as an upper envelope while the filter worked). Before any of that is known
 * nothing counts as the user while the assistant talks: early echo cannot be
 * told from a voice, and a false barge-in is the worse mistake.
 */
export class DoubleTalkDetector {
  private mic = 0;
  private err = 0;
  private echo = 0;
  private micEcho = 0;
  private erle = 1;
  private micLong = 0;
  private refLong = 0;
  /** Microphone over reference energy on echo alone: how loud the room returns the speaker (0: not known yet). */
  private erl = 0;
  private noise = Infinity;
  private hangover = 0;
  nearEnd = false;

  /**
   * One block: energies of the microphone, of the linear canceller's output and
   * of its echo estimate, the microphone·estimate product sum, the energy of the
   * reference the filter works on; whether the far end plays, and whether the
   * filter is known to be stale (the echo path moved).
   */
  update(micEnergy: number, errEnergy: number, echoEnergy: number, micEcho: number, refEnergy: number, farEnd: boolean, stale = false): void {
    this.mic += SHORT * (micEnergy - this.mic);
    this.err += SHORT * (errEnergy - this.err);
    this.echo += SHORT * (echoEnergy - this.echo);
    this.micEcho += SHORT * (micEcho - this.micEcho);
    this.micLong += LONG * (micEnergy - this.micLong);
    this.refLong += LONG * (refEnergy - this.refLong);
    // Echo alone makes the microphone a copy of the estimate; another voice decorrelates them.
    const correlation = this.micEcho / Math.sqrt(this.mic * this.echo + 1e-9);
    this.noise = Math.min(this.err, this.noise * NOISE_RISE) || 1;
    const ratio = this.mic / Math.max(this.err, 1e-3);
    const audible = this.err > ABOVE_NOISE * this.noise;
    // Learnt on echo alone: in double talk the ratio says nothing about the filter.
    const learnt = !stale && this.erle > LEARNT_ERLE;
    if (farEnd && audible && !this.nearEnd) {
      this.erle += (ratio > this.erle ? ERLE_RISE : ERLE_SINK) * (ratio - this.erle);
      const loss = this.micLong / Math.max(this.refLong, 1);
      if (learnt) this.erl += (loss > this.erl ? ERLE_RISE : ERLE_SINK) * (loss - this.erl);
    }
    // While the filter relearns: louder than any echo this room has returned (only a voice adds loudness).
    const overEcho = learnt ? ratio * NEAR_END_MARGIN < this.erle && correlation < NEAR_END_CORRELATION : this.erl > 0 && this.mic > ABOVE_ECHO * this.erl * this.refLong;
    const louderThanEcho = !farEnd || overEcho;
    if (audible && louderThanEcho) this.hangover = HANGOVER;
    else if (this.hangover > 0) this.hangover--;
    this.nearEnd = this.hangover > 0;
  }

  /** Forgets what the filter achieved (it starts over); the room's echo loss stays known. */
  reset(): void {
    this.erle = 1;
    this.hangover = 0;
    this.nearEnd = false;
  }

  /** What the filter achieves on echo alone (dB). */
  get erleDb(): number {
    return 10 * Math.log10(this.erle);
  }
}
