import { readWavMono } from '../audio/wav';
import { float32ToInt16 } from '../audio/pcm';

export type Pace = 'realtime' | 'fast';

/**
 * A microphone that plays a WAV file: in real time (one buffer per buffer
 * duration, like a device) or as fast as the flow takes it, in slices that
 * let the event loop breathe. Calls onEnd once the file is done.
 */
export class WavFileInput {
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly pace: Pace,
    private readonly frameMs: number,
  ) {}

  async start(onSamples: (samples: Int16Array, sampleRate: number) => void, onEnd: () => void): Promise<void> {
    const wav = await readWavMono(this.path);
    if (this.stopped) return;
    const samples = float32ToInt16(wav.samples);
    const step = Math.max(1, Math.round((wav.sampleRate * this.frameMs) / 1000));
    let at = 0;
    const started = performance.now();
    const next = (): void => {
      if (this.stopped) return;
      const slices = this.pace === 'fast' ? 50 : 1;
      for (let i = 0; i < slices && at < samples.length; i++, at += step) onSamples(samples.slice(at, at + step), wav.sampleRate);
      if (at >= samples.length) {
        this.timer = undefined;
        onEnd();
        return;
      }
      if (this.pace === 'fast') this.timer = setImmediate(next);
      else this.timer = setTimeout(next, Math.max(0, started + (at / wav.sampleRate) * 1000 - performance.now()));
    };
    next();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
  }
}
