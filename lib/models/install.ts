import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { CatalogEntry, ModelFile } from './catalog';
import { downloadFile, DownloadError } from './download';
import { INSTALL_RECORD, modelPath } from './models-dir';

const run = promisify(execFile);

export interface InstallOptions {
  dir: string;
  /** Allow files whose digest nobody could verify. */
  insecureNoDigest?: boolean;
  retries?: number;
  onFile?: (file: ModelFile) => void;
  onProgress?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
}

/** What an install leaves in the model's folder so `verify` can check it later. */
export interface InstallRecord {
  name: string;
  files: { path: string; size: number; sha256: string | null }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Downloads and installs one catalog model into <dir>/<name>/. Connection
 * resets are retried and resume where they stopped; archives are unpacked
 * with the system tar (present on Linux, macOS and Windows 10+).
 */
export async function installModel(entry: CatalogEntry, opts: InstallOptions): Promise<string> {
  const unverified = entry.files.filter((f) => f.sha256 === null);
  if (unverified.length && !opts.insecureNoDigest) {
    throw new Error(`${entry.name}: no verified SHA-256 is known for ${unverified.map((f) => f.path).join(', ')}; pass --insecure-no-digest to download it anyway`);
  }
  const target = modelPath(entry, opts.dir);
  const staging = join(opts.dir, '.downloads', entry.name);
  await mkdir(staging, { recursive: true });
  await mkdir(target, { recursive: true });
  const record: InstallRecord = { name: entry.name, files: [] };
  for (const file of entry.files) {
    opts.onFile?.(file);
    const downloaded = join(staging, file.path);
    await withRetries(() => downloadFile({ url: file.url, dest: downloaded, size: file.size, sha256: file.sha256, onProgress: opts.onProgress, signal: opts.signal }), opts.retries ?? 3);
    if (file.archive) {
      record.files.push(...(await unpack(downloaded, target)));
      await rm(downloaded, { force: true });
    } else {
      await rename(downloaded, join(target, file.path));
      record.files.push({ path: file.path, size: (await stat(join(target, file.path))).size, sha256: file.sha256 });
    }
  }
  await writeFile(join(target, INSTALL_RECORD), JSON.stringify(record, null, 2));
  await rm(staging, { recursive: true, force: true });
  return target;
}

async function withRetries(attempt: () => Promise<void>, retries: number): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof DownloadError) || err.code !== 'CONNECTION_RESET' || i >= retries) throw err;
      await sleep(200 * 2 ** i);
    }
  }
}

/** Unpacks a .tar.bz2 whose single top folder becomes the model folder. Returns what it holds. */
async function unpack(archive: string, target: string): Promise<InstallRecord['files']> {
  const scratch = `${target}.unpacking`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    await run('tar', ['-xjf', archive, '-C', scratch]);
  } catch (err) {
    throw new Error(`could not unpack ${archive} with tar: ${(err as Error).message}`, { cause: err });
  }
  const top = await readdir(scratch);
  const root = top.length === 1 && (await stat(join(scratch, top[0]))).isDirectory() ? join(scratch, top[0]) : scratch;
  await rm(target, { recursive: true, force: true });
  await rename(root, target);
  await rm(scratch, { recursive: true, force: true });
  return listFiles(target);
}

async function listFiles(dir: string, base = dir): Promise<InstallRecord['files']> {
  const out: InstallRecord['files'] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full, base)));
    else if (entry.name !== INSTALL_RECORD) out.push({ path: relative(base, full), size: (await stat(full)).size, sha256: null });
  }
  return out;
}
