import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { SHARED } from './paths';
import { LocalServer } from './local-server';

export const FIXTURES = join(SHARED, 'fixtures', 'llama-server');
export const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

export interface Reply {
  status?: number;
  body: string;
  /** Bytes per write: the body arrives in pieces this size. */
  chunkSize?: number;
  /** Wait before the headers (the prompt is being evaluated). */
  delayMs?: number;
  /** Wait between pieces. */
  gapMs?: number;
  /** Destroy the socket after this many bytes of body. */
  cutAfter?: number;
  /** Send this many bytes of body, then hold the connection open silently (a stopped or hung llama-server). */
  holdAfter?: number;
  contentType?: string;
}

/**
 * A real HTTP server on 127.0.0.1 that plays back recorded llama-server
 * responses, piece by piece, with the faults a real server shows.
 */
export class LlamaReplay extends LocalServer {
  readonly routes = new Map<string, (req: IncomingMessage) => Reply>();
  readonly requests: { path: string; body: string; socketId: number }[] = [];
  private sockets = 0;

  route(path: string, reply: Reply | ((req: IncomingMessage) => Reply)): this {
    this.routes.set(path, typeof reply === 'function' ? reply : () => reply);
    return this;
  }

  protected create(): Server {
    return createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const socket = req.socket as typeof req.socket & { replayId?: number };
        socket.replayId ??= ++this.sockets;
        this.requests.push({ path: req.url ?? '', body, socketId: socket.replayId });
        const handler = this.routes.get(req.url ?? '');
        if (!handler) {
          res.writeHead(404).end('{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}');
          return;
        }
        void play(handler(req), res);
      });
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function play(reply: Reply, res: ServerResponse): Promise<void> {
  if (reply.delayMs) await sleep(reply.delayMs);
  res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'text/event-stream' });
  const bytes = Buffer.from(reply.body);
  const end = reply.cutAfter ?? reply.holdAfter ?? bytes.length;
  const size = reply.chunkSize ?? bytes.length;
  for (let i = 0; i < end; i += size) {
    if (res.destroyed) return;
    await new Promise((written) => res.write(bytes.subarray(i, Math.min(i + size, end)), written));
    if (reply.gapMs) await sleep(reply.gapMs);
  }
  if (reply.cutAfter !== undefined) res.socket?.destroy();
  else if (reply.holdAfter === undefined) res.end();
}

/** The replay server, also noting when the client dropped a response before its end. */
export class WatchedReplay extends LlamaReplay {
  readonly abandonedAt: number[] = [];
  protected create() {
    const server = super.create();
    server.on('request', (_req, res) => res.on('close', () => res.writableFinished || this.abandonedAt.push(performance.now())));
    return server;
  }
}
