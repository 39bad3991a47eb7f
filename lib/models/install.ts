import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { CatalogEntry, ModelFile } from './catalog';
import { downloadFile, DownloadError } from './download';
import type { LocalFiles } from './local-files';
import { INSTALL_RECORD, modelPath, type InstallRecord } from './models-dir';

const run = promisify(execFile);

export interface InstallOptions {
  dir: string;
  /** Allow files whose digest nobody could verify. */
  insecureNoDigest?: boolean;
  retries?: number;
  onFile?: (file: ModelFile) => void;
  onProgress?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
  /** `pull --from <folder>`: files found there by size and SHA-256 are copied, not downloaded. */
  from?: LocalFiles;
  /**
   * Hosts found unreachable during this pull, shared by its models: the
   * next files from such a host are not tried again (each try can take a
   * connect timeout), they are listed for the offline way at once.
   */
  offlineHosts?: Set<string>;
  /** A file put in place by hand was the wrong one (see downloadFile). */
  onRefused?: (message: string) => void;
}

/** A file a model needs that could not be had, and where to put it by hand. */
export interface MissingFile {
  url: string;
  /** The exact path `pull` takes the file from on its next run. */
  dest: string;
  error: Error;
}

/** Some of a model's files could not be had: all of them are named, none is installed. */
export class MissingFilesError extends Error {
  constructor(
    readonly model: string,
    readonly missing: MissingFile[],
  ) {
    super(missing.map((m) => `${m.url}: ${m.error.message}`).join('; '));
    this.name = 'MissingFilesError';
  }

  /** Every file failed for want of a network: the offline way (files by hand) applies. */
  get offline(): boolean {
    return this.missing.every((m) => m.error instanceof DownloadError && m.error.code === 'OFFLINE');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where `pull` stages a model's files, and takes them from when put there by hand. */
function stagingDir(dir: string, entry: Pick<CatalogEntry, 'name'>): string {
  return join(dir, '.downloads', entry.name);
}

export function stagingPath(dir: string, entry: Pick<CatalogEntry, 'name'>, file: Pick<ModelFile, 'path'>): string {
  return join(stagingDir(dir, entry), file.path);
}

/**
 * Gets one file to its staging path: already there (by hand), copied from
 * the --from folder, or downloaded (unless its host is known to be offline).
 */
async function fetchFile(file: ModelFile, dest: string, opts: InstallOptions): Promise<void> {
  const local = await opts.from?.find(file);
  if (local) await copyFile(local, dest);
  const host = new URL(file.url).host;
  const offline = opts.offlineHosts?.has(host) ?? false;
  try {
    await withRetries(
      () => downloadFile({ url: file.url, dest, size: file.size, sha256: file.sha256, onProgress: opts.onProgress, signal: opts.signal, offline, onRefused: opts.onRefused }),
      opts.retries ?? 3,
    );
  } catch (err) {
    if (err instanceof DownloadError && err.code === 'OFFLINE') opts.offlineHosts?.add(host);
    throw err;
  }
}

/**
 * Downloads and installs one catalog model into <dir>/<name>/. Every file is
 * tried before giving up, so that one error names all that is missing.
 * Connection resets are retried and resume where they stopped; archives are
 * unpacked with the system tar (present on Linux, macOS and Windows 10+).
 */
export async function installModel(entry: CatalogEntry, opts: InstallOptions): Promise<string> {
  const unverified = entry.files.filter((f) => f.sha256 === null);
  if (unverified.length && !opts.insecureNoDigest) {
    throw new Error(`${entry.name}: no verified SHA-256 is known for ${unverified.map((f) => f.path).join(', ')}; pass --insecure-no-digest to download it anyway`);
  }
  const target = modelPath(entry, opts.dir);
  const staging = stagingDir(opts.dir, entry);
  await mkdir(staging, { recursive: true });
  const missing: MissingFile[] = [];
  for (const file of entry.files) {
    opts.onFile?.(file);
    const dest = stagingPath(opts.dir, entry, file);
    try {
      await fetchFile(file, dest, opts);
    } catch (err) {
      missing.push({ url: file.url, dest, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }
  if (missing.length) throw new MissingFilesError(entry.name, missing);

  await mkdir(target, { recursive: true });
  const record: InstallRecord = { name: entry.name, files: [] };
  for (const file of entry.files) {
    const downloaded = stagingPath(opts.dir, entry, file);
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
