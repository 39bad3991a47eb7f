import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/**
 * Replaces `path` with `text` so that a crash, a power cut or a full disk
 * never leaves half a file: the text goes to a temporary file of its own
 * (named by process and count, so two writers never share one), which is
 * flushed to the disk before it is renamed over the old file. On failure the
 * temporary file is removed and the old file is untouched.
 */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${basename(path)}.${process.pid}-${++counter}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    writeFileSync(fd, text);
    fsyncSync(fd); // without it, the rename may reach the disk before the data does
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    try {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
    } catch {
      // the write's own error says more; a temp file left behind is removed at the next start
    }
    throw err;
  }
  syncDir(dir);
}

/** Makes the rename itself durable; some file systems refuse fsync on a folder, and the new file is in place either way. */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort: see above
  }
}

/** Removes temporary files a crashed writer left beside `path` (its process is gone); on a read-only disk they stay. */
export function removeStaleTemps(path: string): void {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return; // no folder yet
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)-\d+\.tmp$/.exec(name.slice(prefix.length)) : null;
    if (!m || alive(Number(m[1]))) continue;
    try {
      rmSync(join(dirname(path), name), { force: true });
    } catch {
      // read-only: harmless, it is never read
    }
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
