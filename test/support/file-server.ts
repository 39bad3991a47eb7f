import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { LocalServer } from './local-server';

export interface ServedFile {
  body: Buffer;
  /** Destroy the socket after this many bytes, on the first request only. */
  resetAfter?: number;
}

/**
 * A real HTTP server on 127.0.0.1 for downloader tests: serves files with
 * Range support, 404 for unknown paths, redirects, and connection resets.
 */
export class FileServer extends LocalServer {
  readonly files = new Map<string, ServedFile>();
  readonly redirects = new Map<string, string>();
  readonly requests: { path: string; headers: IncomingHttpHeaders }[] = [];
  private resetDone = new Set<string>();

  protected create(): Server {
    return createServer((req, res) => {
      const path = req.url ?? '/';
      this.requests.push({ path, headers: req.headers });
      const target = this.redirects.get(path);
      if (target) {
        res.writeHead(302, { location: target }).end();
        return;
      }
      const file = this.files.get(path);
      if (!file) {
        res.writeHead(404).end('not found');
        return;
      }
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      if (start > file.body.length) {
        res.writeHead(416).end();
        return;
      }
      const part = file.body.subarray(start);
      res.writeHead(range ? 206 : 200, {
        'content-length': part.length,
        ...(range ? { 'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}` } : {}),
      });
      if (file.resetAfter !== undefined && !this.resetDone.has(path)) {
        this.resetDone.add(path);
        res.write(part.subarray(0, file.resetAfter), () => setTimeout(() => req.socket.destroy(), 20));
        return;
      }
      res.end(part);
    });
  }
}

export function randomFile(size: number): { body: Buffer; sha256: string } {
  const body = randomBytes(size);
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}
