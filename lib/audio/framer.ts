/**
 * Cuts a stream of samples into fixed-size frames (e.g. 20 ms), carrying the
 * remainder over to the next push. Frames are fresh Int16Arrays because they
 * leave as message payloads and must not be overwritten later.
 */
export class Framer {
  private readonly partial: Int16Array;
  private filled = 0;

  constructor(readonly frameSamples: number) {
    if (!Number.isInteger(frameSamples) || frameSamples <= 0) throw new RangeError(`frame size must be a positive whole number, got ${frameSamples}`);
    this.partial = new Int16Array(frameSamples);
  }

  static forDuration(sampleRate: number, frameMs: number): Framer {
    return new Framer(Math.round((sampleRate * frameMs) / 1000));
  }

  push(samples: Int16Array): Int16Array[] {
    const frames: Int16Array[] = [];
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(this.frameSamples - this.filled, samples.length - i);
      this.partial.set(samples.subarray(i, i + take), this.filled);
      this.filled += take;
      i += take;
      if (this.filled === this.frameSamples) {
        frames.push(this.partial.slice());
        this.filled = 0;
      }
    }
    return frames;
  }

  /** The last, shorter frame (or nothing), and resets. */
  flush(): Int16Array | undefined {
    if (this.filled === 0) return undefined;
    const last = this.partial.slice(0, this.filled);
    this.filled = 0;
    return last;
  }
}
