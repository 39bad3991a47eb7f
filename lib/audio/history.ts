/**
 * The last few seconds of a 16 kHz stream, addressed by stream time, so that
 * work that starts when the VAD reports speech (late by design) can still get
 * the audio from the speech onset.
 */
export class AudioHistory {
  private readonly buf: Float32Array;
  private total = 0;

  constructor(
    private readonly sampleRate: number,
    seconds: number,
  ) {
    this.buf = new Float32Array(Math.round(sampleRate * seconds));
  }

  push(samples: Float32Array): void {
    for (let i = 0; i < samples.length; i++) this.buf[(this.total + i) % this.buf.length] = samples[i];
    this.total += samples.length;
  }

  /** Stream time of the newest sample, in ms. */
  get nowMs(): number {
    return (this.total / this.sampleRate) * 1000;
  }

  /** Samples from stream time `fromMs` to now (as much as is kept). */
  since(fromMs: number): Float32Array {
    const from = Math.max(Math.round((fromMs / 1000) * this.sampleRate), this.total - this.buf.length);
    const out = new Float32Array(Math.max(0, this.total - from));
    for (let i = 0; i < out.length; i++) out[i] = this.buf[(from + i) % this.buf.length];
    return out;
  }
}
