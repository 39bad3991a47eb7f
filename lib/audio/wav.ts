import { readFile } from 'node:fs/promises';
import { AudioFrameError } from './errors';
import { downmix, float32ToInt16, int16ToBuffer } from './pcm';

export interface WavAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved samples in [-1, 1]. */
  samples: Float32Array;
}

/** Parses a RIFF/WAVE file: PCM 8/16/24/32-bit or IEEE float 32/64, any channel count. */
export function parseWav(bytes: Buffer): WavAudio {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') {
    throw new AudioFrameError('BAD_WAV', 'not a WAV file (no RIFF/WAVE header)');
  }
  let fmt: { tag: number; channels: number; sampleRate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      let tag = bytes.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format in the sub-format GUID's first two bytes.
      if (tag === 0xfffe && size >= 26) tag = bytes.readUInt16LE(body + 24);
      fmt = { tag, channels: bytes.readUInt16LE(body + 2), sampleRate: bytes.readUInt32LE(body + 4), bits: bytes.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new AudioFrameError('BAD_WAV', 'WAV data chunk comes before its fmt chunk');
      // Streams written live often leave the size at 0 or 0xFFFFFFFF: take what is there.
      const end = size === 0 || body + size > bytes.length ? bytes.length : body + size;
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples: decode(bytes.subarray(body, end), fmt.tag, fmt.bits) };
    }
    offset = body + size + (size & 1);
  }
  throw new AudioFrameError('BAD_WAV', 'WAV file has no data chunk');
}

function decode(data: Buffer, tag: number, bits: number): Float32Array {
  const step = bits / 8;
  const count = Math.floor(data.length / step);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * step;
    if (tag === 1 && bits === 16) out[i] = data.readInt16LE(at) / 32768;
    else if (tag === 1 && bits === 8) out[i] = (data[at] - 128) / 128;
    else if (tag === 1 && bits === 24) out[i] = data.readIntLE(at, 3) / 8388608;
    else if (tag === 1 && bits === 32) out[i] = data.readInt32LE(at) / 2147483648;
    else if (tag === 3 && bits === 32) out[i] = data.readFloatLE(at);
    else if (tag === 3 && bits === 64) out[i] = data.readDoubleLE(at);
    else throw new AudioFrameError('BAD_WAV', `unsupported WAV encoding (format ${tag}, ${bits} bits)`);
  }
  return out;
}

/** Reads a WAV file and mixes it down to mono. */
export async function readWavMono(path: string): Promise<{ sampleRate: number; samples: Float32Array }> {
  const wav = parseWav(await readFile(path));
  return { sampleRate: wav.sampleRate, samples: downmix(wav.samples, wav.channels) };
}

/** Encodes mono (or interleaved) 16-bit PCM as a WAV file. */
export function encodeWav(samples: Float32Array | Int16Array, sampleRate: number, channels = 1): Buffer {
  const pcm = int16ToBuffer(samples instanceof Int16Array ? samples : float32ToInt16(samples));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}
