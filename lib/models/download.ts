import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, interceptors, request, type Dispatcher } from 'undici';

export type DownloadErrorCode = 'HTTP_STATUS' | 'SIZE_MISMATCH' | 'DIGEST_MISMATCH' | 'OFFLINE' | 'CONNECTION_RESET';

export class DownloadError extends Error {
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadOptions {
  url: string;
  dest: string;
  size: number | null;
  sha256: string | null;
  onProgress?: (received: number, total: number | null) => void;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** The host was found unreachable already: take the file only if it is here, never go online. */
  offline?: boolean;
  /** Told when a file put at `dest` by hand is not the right one (it is moved aside, and the download goes on). */
  onRefused?: (message: string) => void;
}

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED']);

// GitHub and Hugging Face answer with redirects to their CDNs.
const defaultDispatcher = new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));

function errorCode(err: unknown): string | undefined {
  let e = err as { code?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && (OFFLINE_CODES.has(e.code) || RESET_CODES.has(e.code))) return e.code;
    e = e.cause as typeof e;
  }
  return (err as { code?: string })?.code;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * A whole file someone put at `dest` by hand (the offline way): true when it
 * has the pinned size and SHA-256, so nothing needs downloading. A different
 * file is refused by name and moved aside to `dest.rejected` (nothing the user
 * copied is deleted, and the next attempt is not blocked by it).
 */
async function acceptPlacedFile({ dest, url, size, sha256, onRefused }: DownloadOptions): Promise<boolean> {
  if (!(await isFile(dest))) return false;
  const got = await sizeOf(dest);
  let wrong = size !== null && got !== size ? `${got} bytes, expected ${size}` : '';
  if (!wrong && sha256 !== null) {
    const hash = createHash('sha256');
    await hashFile(dest, hash);
    const digest = hash.digest('hex');
    if (digest !== sha256) wrong = `SHA-256 ${digest}, expected ${sha256}`;
  }
  if (!wrong) return true;
  await rename(dest, `${dest}.rejected`);
  onRefused?.(`refused ${dest}: it is not the file of ${url} (${wrong}); moved to ${dest}.rejected`);
  return false;
}

/**
 * Gets `url` to `dest`. A whole file already at `dest` (put there by hand)
 * is taken when its size and SHA-256 match, without going online. Otherwise
 * it downloads into `dest.partial` first, resuming a partial left by an
 * earlier attempt (or completed by hand), checking size and SHA-256 on the
 * way, and renames into place only when both match, so `dest` is never half
 * a file.
 */
export async function downloadFile(opts: DownloadOptions): Promise<void> {
  const { url, dest, size, sha256, onProgress, signal } = opts;
  if (await acceptPlacedFile(opts)) return;
  const partial = `${dest}.partial`;
  let offset = await sizeOf(partial);
  if (size !== null && offset > size) {
    await rm(partial, { force: true });
    offset = 0;
  }

  const hash = createHash('sha256');
  if (size === null || offset < size) {
    if (opts.offline) throw offlineError(url, 'unreachable earlier in this pull');
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { headers, signal, dispatcher: opts.dispatcher ?? defaultDispatcher });
    } catch (err) {
      throw classify(err, url);
    }
    if (res.statusCode === 416) {
      // Our partial does not fit the server's file: start again from zero.
      await res.body.dump();
      await rm(partial, { force: true });
      return downloadFile(opts);
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      await res.body.dump();
      throw new DownloadError('HTTP_STATUS', `HTTP ${res.statusCode} for ${url}`);
    }
    if (res.statusCode === 200 && offset > 0) offset = 0; // the server ignored the range: full body follows
    if (offset > 0) await hashFile(partial, hash);
    let received = offset;
    onProgress?.(received, size);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, callback) {
        received += chunk.length;
        if (size !== null && received > size) {
          callback(new DownloadError('SIZE_MISMATCH', `${url} is larger than the expected ${size} bytes`));
          return;
        }
        hash.update(chunk);
        onProgress?.(received, size);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(res.body, meter, createWriteStream(partial, { flags: offset > 0 ? 'a' : 'w' }));
    } catch (err) {
      if (err instanceof DownloadError) {
        await rm(partial, { force: true });
        throw err;
      }
      throw classify(err, url);
    }
  } else {
    await hashFile(partial, hash);
  }

  const got = await sizeOf(partial);
  if (size !== null && got !== size) {
    await rm(partial, { force: true });
    throw new DownloadError('SIZE_MISMATCH', `${url}: got ${got} bytes, expected ${size} (the server's file is truncated or has changed)`);
  }
  const digest = hash.digest('hex');
  if (sha256 !== null && digest !== sha256) {
    // A wrong file must not be resumed: the next attempt starts clean.
    await rm(partial, { force: true });
    throw new DownloadError('DIGEST_MISMATCH', `${url}: SHA-256 is ${digest}, expected ${sha256}; the file was not kept`);
  }
  await rename(partial, dest);
}

/** A host that cannot be reached; the caller says what to do (pull lists every file for the offline way). */
function offlineError(url: string, why: string): DownloadError {
  return new DownloadError('OFFLINE', `cannot reach ${new URL(url).host} (${why}): you seem to be offline`);
}

function classify(err: unknown, url: string): Error {
  const code = errorCode(err);
  if (code && OFFLINE_CODES.has(code)) return offlineError(url, code);
  if (code && RESET_CODES.has(code)) {
    return new DownloadError('CONNECTION_RESET', `connection lost while downloading ${url} (${code}); the partial file is kept and the next try resumes`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
