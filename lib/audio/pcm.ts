import { AudioFrameError } from './errors';

/** Int16 samples as s16le bytes without copying (little-endian hosts: every platform Node runs on). */
export function int16ToBuffer(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}

/** s16le bytes as Int16 samples; copies only when the Buffer sits at an odd offset. */
export function bufferToInt16(bytes: Uint8Array): Int16Array {
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
  const copy = Uint8Array.prototype.slice.call(bytes, 0, bytes.byteLength & ~1);
  return new Int16Array(copy.buffer, 0, copy.byteLength >> 1);
}

export function int16ToFloat32(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] / 32768;
  return out;
}

/** Floats in [-1, 1] to Int16, clipping. NaN means a broken engine upstream: refuse it. */
export function float32ToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (Number.isNaN(s)) throw new AudioFrameError('NOT_A_NUMBER', `sample ${i} is NaN; the audio source produced invalid data`);
    const v = Math.round(s * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** s16le bytes to floats in [-1, 1). */
export function s16leToFloat32(bytes: Uint8Array): Float32Array {
  return int16ToFloat32(bufferToInt16(bytes));
}

/** Floats to s16le bytes. */
export function float32ToS16le(samples: Float32Array): Buffer {
  return int16ToBuffer(float32ToInt16(samples));
}

/** Root mean square of float samples (0 for an empty array). */
export function rms(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / samples.length);
}

/** RMS level in dB relative to full scale; -Infinity for digital silence. */
export function dbfs(samples: Float32Array): number {
  return 20 * Math.log10(rms(samples));
}

/** Averages interleaved channels into one. */
export function downmix(interleaved: Float32Array, channels: number): Float32Array {
  if (channels === 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[f * channels + c];
    out[f] = sum / channels;
  }
  return out;
}
