import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeWav } from './wav';
import { int16ToBuffer } from './pcm';

/** How often the header's sizes are brought up to date while audio is appended. */
const HEADER_EVERY_MS = 1000;

/**
 * Appends mono s16le audio to a WAV file as it plays. One small write per
 * buffer (to the page cache); the header's sizes follow at most once a second
 * and on close, so a file read mid-stream is a valid WAV of nearly all of it,
 * and one left behind by a crash loses at most a second from its header.
 */
export class WavFileWriter {
  private fd: number | undefined;
  private bytes = 0;
  private headerAt = 0;

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
    if (performance.now() - this.headerAt >= HEADER_EVERY_MS) this.writeSizes();
  }

  close(): void {
    if (this.fd === undefined) return;
    this.writeSizes();
    closeSync(this.fd);
    this.fd = undefined;
  }

  private writeSizes(): void {
    if (this.fd === undefined) return;
    this.headerAt = performance.now();
    const sizes = Buffer.alloc(4);
    sizes.writeUInt32LE(36 + this.bytes);
    writeSync(this.fd, sizes, 0, 4, 4);
    sizes.writeUInt32LE(this.bytes);
    writeSync(this.fd, sizes, 0, 4, 40);
  }
}
