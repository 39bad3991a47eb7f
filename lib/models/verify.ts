import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatalogEntry } from './catalog';
import { pullCommand } from './command';
import { INSTALL_RECORD, modelPath, type InstallRecord } from './models-dir';

export type FileState = 'ok' | 'missing' | 'wrong-size' | 'wrong-digest' | 'unchecked-digest';

export interface FileReport {
  path: string;
  state: FileState;
  detail?: string;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Checks an installed model against its install record: every file present
 * with its size, and the SHA-256 of files the catalog pins (an archive's
 * members have no pinned digests of their own; their sizes are checked).
 */
export async function verifyModel(entry: CatalogEntry, dir: string): Promise<FileReport[]> {
  const folder = modelPath(entry, dir);
  let record: InstallRecord;
  try {
    record = JSON.parse(await readFile(join(folder, INSTALL_RECORD), 'utf8')) as InstallRecord;
  } catch {
    return entry.files.map((f) => ({ path: f.path, state: 'missing', detail: `not installed: ${pullCommand(entry.name)}` }));
  }
  const reports: FileReport[] = [];
  for (const file of record.files) {
    const path = join(folder, file.path);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      reports.push({ path: file.path, state: 'missing' });
      continue;
    }
    if (size !== file.size) {
      reports.push({ path: file.path, state: 'wrong-size', detail: `${size} bytes, expected ${file.size}` });
    } else if (file.sha256 === null) {
      reports.push({ path: file.path, state: 'unchecked-digest' });
    } else {
      const digest = await sha256File(path);
      reports.push(digest === file.sha256 ? { path: file.path, state: 'ok' } : { path: file.path, state: 'wrong-digest', detail: `SHA-256 ${digest}` });
    }
  }
  return reports;
}

export function isHealthy(reports: FileReport[]): boolean {
  return reports.every((r) => r.state === 'ok' || r.state === 'unchecked-digest');
}
