import { bufferToInt16, downmix, float32ToInt16, int16ToFloat32 } from './pcm';
import { Resampler } from './resample';

/**
 * Where audio enters a node: frames of any rate and channel count become mono
 * at the node's rate, as floats for an engine or as Int16 for a device. One
 * converter per stream, so its filter state carries across frames (no click
 * at every frame edge); it is rebuilt only when the input rate changes, so a
 * stream of ever-new rates cannot pile up converters.
 */
export class AudioInlet {
  private resampler: Resampler | undefined;

  constructor(readonly rate: number) {}

  /** One frame (s16le bytes or Int16 samples, interleaved) as mono floats at `rate`. `end` drains the converter: the stream's last frame. */
  toFloat(pcm: Uint8Array | Int16Array, sampleRate: number, channels = 1, end = false): Float32Array {
    return this.convert(downmix(int16ToFloat32(asInt16(pcm)), channels), sampleRate, end);
  }

  /** The same as Int16 samples: the input itself, not a copy, when it already is mono at `rate`. */
  toInt16(pcm: Uint8Array | Int16Array, sampleRate: number, channels = 1, end = false): Int16Array {
    if (sampleRate === this.rate && channels === 1) return asInt16(pcm);
    return float32ToInt16(this.toFloat(pcm, sampleRate, channels, end));
  }

  private convert(mono: Float32Array, sampleRate: number, end: boolean): Float32Array {
    if (sampleRate === this.rate) return mono;
    if (this.resampler?.inputRate !== sampleRate) this.resampler = new Resampler(sampleRate, this.rate);
    const head = this.resampler.push(mono);
    if (!end) return head;
    const tail = this.resampler.flush();
    const all = new Float32Array(head.length + tail.length);
    all.set(head);
    all.set(tail, head.length);
    return all;
  }
}

function asInt16(pcm: Uint8Array | Int16Array): Int16Array {
  return pcm instanceof Int16Array ? pcm : bufferToInt16(pcm);
}
