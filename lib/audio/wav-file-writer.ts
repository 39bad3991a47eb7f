import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeWav } from './wav';
import { int16ToBuffer } from './pcm';

/**
 * Appends mono s16le audio to a WAV file as it plays, keeping the header's
 * sizes right after every write so the file is valid even if Node-RED stops
 * without closing it. Writes are small (one device buffer) and synchronous.
 */
export class WavFileWriter {
  private fd: number | undefined;
  private bytes = 0;

  constructor(
    readonly path: string,
    readonly sampleRate: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
    writeSync(this.fd, encodeWav(new Int16Array(0), sampleRate));
  }

  append(samples: Int16Array): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, int16ToBuffer(samples), 0, samples.byteLength, 44 + this.bytes);
    this.bytes += samples.byteLength;
    const sizes = Buffer.alloc(4);
    sizes.writeUInt32LE(36 + this.bytes);
    writeSync(this.fd, sizes, 0, 4, 4);
    sizes.writeUInt32LE(this.bytes);
    writeSync(this.fd, sizes, 0, 4, 40);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
