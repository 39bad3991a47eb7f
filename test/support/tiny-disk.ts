import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real small disk for failure tests: a tmpfs of `kilobytes` mounted in a
 * temporary folder. It can be made read-only (EROFS) or filled up (ENOSPC),
 * as a Raspberry Pi's SD card does when it fails or fills. Needs the right to
 * mount (root with CAP_SYS_ADMIN); `TinyDisk.create` says why when it cannot.
 */
export class TinyDisk {
  private constructor(readonly dir: string) {}

  /** The disk, or the reason it cannot be made here (for the skip message). */
  static create(kilobytes = 64): TinyDisk | string {
    const dir = mkdtempSync(join(tmpdir(), 'rv-tinydisk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kilobytes}k,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
      return new TinyDisk(dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      return `cannot mount a tmpfs (${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()})`;
    }
  }

  readOnly(): void {
    execFileSync('mount', ['-o', 'remount,ro', this.dir]);
  }

  writable(): void {
    execFileSync('mount', ['-o', 'remount,rw', this.dir]);
  }

  /** Fills every free block with one file; returns its path (delete it to free the disk). */
  fill(): string {
    const path = join(this.dir, 'filler');
    const fd = openSync(path, 'w');
    const block = Buffer.alloc(4096, 1);
    try {
      for (;;) writeSync(fd, block);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      closeSync(fd);
    }
    return path;
  }

  /** Unmounts and removes the folder (call in after()). */
  remove(): void {
    execFileSync('umount', [this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
