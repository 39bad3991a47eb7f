/**
 * One audio stream a Wyoming client sends (audio-start, audio-chunk…,
 * audio-stop), turned into the package's 20 ms 16-bit mono frames. Chunks may
 * be of any size, down to one byte: a sample split across two chunks is put
 * back together. Stereo (or more channels) is mixed to mono.
 */
import { Framer } from '../audio/framer';
import { MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../audio/format';
import { bufferToInt16, downmix, float32ToInt16, int16ToFloat32 } from '../audio/pcm';
import { WyomingError } from './errors';

export interface WireFormat {
  rate: number;
  width: number;
  channels: number;
}

const FRAME_MS = 20;

/** The format an audio-start or audio-chunk declares, if the package can take it. */
export function wireFormat(data: Record<string, unknown>): WireFormat {
  const { rate, width, channels } = data;
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
    throw new WyomingError(`audio rate ${JSON.stringify(rate)}: expected a whole number of Hz from ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE}`, 'bad-audio');
  }
  if (width !== 2) throw new WyomingError(`audio width ${JSON.stringify(width)}: only 16-bit samples (width 2) are supported`, 'bad-audio');
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new WyomingError(`audio channels ${JSON.stringify(channels)}: expected 1 to ${MAX_CHANNELS}`, 'bad-audio');
  }
  return { rate, width, channels };
}

export class AudioStream {
  private readonly framer: Framer;
  private carry: Buffer = Buffer.alloc(0);
  /** Seconds of audio received so far. */
  seconds = 0;

  constructor(readonly format: WireFormat) {
    this.framer = Framer.forDuration(format.rate, FRAME_MS);
  }

  /** The whole 20 ms frames the chunk completes. Its own format must be the stream's. */
  push(data: Record<string, unknown>, payload: Buffer | undefined): Int16Array[] {
    const f = wireFormat(data);
    if (f.rate !== this.format.rate || f.channels !== this.format.channels) {
      throw new WyomingError(`an audio-chunk of ${f.rate} Hz × ${f.channels} in a stream that started as ${this.format.rate} Hz × ${this.format.channels}`, 'bad-audio');
    }
    if (!payload?.length) return [];
    const bytes = this.carry.length ? Buffer.concat([this.carry, payload]) : payload;
    const whole = bytes.length - (bytes.length % (2 * this.format.channels));
    this.carry = Buffer.from(bytes.subarray(whole));
    if (whole === 0) return [];
    this.seconds += whole / (2 * this.format.channels * this.format.rate);
    return this.framer.push(this.mono(bytes.subarray(0, whole)));
  }

  /** The last, shorter frame at audio-stop (undefined when the stream ended on a frame boundary). */
  end(): Int16Array | undefined {
    this.carry = Buffer.alloc(0);
    return this.framer.flush() ?? undefined;
  }

  private mono(bytes: Buffer): Int16Array {
    // May alias the socket's bytes: the framer copies them into its own frames.
    const samples = bufferToInt16(bytes);
    return this.format.channels === 1 ? samples : float32ToInt16(downmix(int16ToFloat32(samples), this.format.channels));
  }
}
