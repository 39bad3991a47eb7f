import { WavFileWriter } from '../audio/wav-file-writer';
import type { PlaybackSink } from './playback-queue';

/**
 * A speaker that plays into a WAV file at real-time pace: it takes one buffer
 * per buffer duration, like a device, so turn timing, interrupts and tts-end
 * behave exactly as on a sound card (for demos, tests and headless boxes).
 * Quiet gaps are not written: the file holds what was said, back to back.
 */
export class WavFileOutput implements PlaybackSink {
  private readonly queue: Int16Array[] = [];
  private readonly writer: WavFileWriter;
  private timer: NodeJS.Timeout | undefined;
  private nextTick = 0;
  private readonly bufferMs: number;

  constructor(
    path: string,
    readonly sampleRate: number,
    readonly framesPerBuffer: number,
    private readonly onPlayed: () => void,
  ) {
    this.writer = new WavFileWriter(path, sampleRate);
    this.bufferMs = (framesPerBuffer / sampleRate) * 1000;
  }

  write(samples: Int16Array): void {
    this.queue.push(samples);
    if (!this.timer) {
      this.nextTick = performance.now();
      this.tick();
    }
  }

  clear(): void {
    this.queue.length = 0;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writer.close();
  }

  private tick(): void {
    const samples = this.queue.shift();
    if (!samples) {
      this.timer = undefined;
      return;
    }
    this.writer.append(samples);
    // Scheduled against the ideal clock, not the last tick, so timer lateness does not add up;
    // and before onPlayed, whose refill writes the next buffer: it must wait for this tick, not play at once.
    this.nextTick += this.bufferMs;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.nextTick - performance.now()));
    this.onPlayed();
  }
}
