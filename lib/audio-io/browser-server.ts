import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import type { Express, Request, Response } from 'express';
import WebSocket from 'ws';
import { DeviceError } from './backend';
import { ROOM_NAME, type BrowserRoom } from './browser-room';
import { BrowserSession } from './browser-session';

/** What the server needs of Node-RED: its HTTP server, the httpNode app and where that is mounted. */
export interface VoiceHost {
  server: Server;
  httpNode: Express;
  httpNodeRoot: string;
}

/** The page and its worklets, shipped beside this file (dist/lib/browser-page). */
const PAGE_DIR = join(__dirname, '..', 'browser-page');
const ASSETS: Record<string, string> = {
  'voice.js': 'text/javascript',
  'capture-worklet.js': 'text/javascript',
  'playback-worklet.js': 'text/javascript',
  'resampler.js': 'text/javascript',
};
/** A message larger than this closes the socket (ws answers 1009): 64 KiB is 2 s of 16 kHz audio. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Sockets open at once, all rooms together; more are refused with 503 (100 tabs cannot exhaust memory). */
const MAX_SOCKETS = 32;
/** How long a page's ticket lets it (re)connect: the page fetches a new one before each connection. */
const TICKET_MS = 60_000;

/**
 * Serves the browser rooms of one Node-RED: the page at
 * `<httpNodeRoot>voice/<room>`, its ticket and scripts beside it, and the
 * WebSocket at `<httpNodeRoot>voice/<room>/ws`. The page and ticket are
 * routes of httpNode, so Node-RED's httpNodeAuth (and httpNodeMiddleware)
 * guard them as they guard every HTTP-in node; the WebSocket upgrade does not
 * pass through express, so it takes a ticket that only those routes hand out
 * (an HMAC of the room and an expiry, under a key made at start), checks its
 * Origin is the page's own, and counts the sockets.
 */
export class BrowserServer {
  private readonly rooms = new Map<string, BrowserRoom>();
  private readonly key = randomBytes(32);
  private readonly wss = new WebSocket.Server({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  private sockets = 0;
  private readonly prefix: string;

  constructor(host: VoiceHost) {
    this.prefix = `${host.httpNodeRoot.replace(/\/$/, '')}/voice/`;
    host.httpNode.get('/voice/:room/ticket', (req, res) => this.ticket(req, res));
    host.httpNode.get('/voice/:room/:asset', (req, res) => this.asset(req, res));
    host.httpNode.get('/voice/:room', (req, res) => this.page(req, res));
    host.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  /** Serves a room until the returned function is called (its card node closes). */
  add(room: BrowserRoom): () => void {
    if (!ROOM_NAME.test(room.room)) throw new DeviceError('NO_BACKEND', `room name "${room.room.slice(0, 40)}" must be 1-32 letters, digits, - or _ (it goes into the page's address)`, 'bad room name');
    if (this.rooms.has(room.room)) throw new DeviceError('NO_BACKEND', `room "${room.room}" is served by another sound-card node already: give each browser card its own room`, 'room taken');
    this.rooms.set(room.room, room);
    return () => {
      if (this.rooms.get(room.room) === room) this.rooms.delete(room.room);
      room.dispose();
    };
  }

  private found(req: Request, res: Response): BrowserRoom | undefined {
    const room = this.rooms.get(String(req.params.room));
    if (!room) return void res.status(404).type('text/plain').send('no sound card serves this room');
    if (!room.allows(typeof req.query.token === 'string' ? req.query.token : '')) return void res.status(401).type('text/plain').send('wrong or missing token');
    return room;
  }

  private page(req: Request, res: Response): void {
    const room = this.found(req, res);
    if (!room) return;
    // Absolute, so that /voice/kitchen and /voice/kitchen/ load the same scripts and socket.
    const base = `${req.originalUrl.split('?')[0].replace(/\/$/, '')}/`;
    const html = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8').replace('<base href="./" />', `<base href="${encodeURI(base)}" />`);
    res.set('Cache-Control', 'no-store').type('text/html').send(html);
  }

  private asset(req: Request, res: Response): void {
    // The scripts hold no secret: served to any page of a room that exists (a script tag sends no token).
    const type = ASSETS[String(req.params.asset)];
    if (!type || !this.rooms.has(String(req.params.room))) return void res.status(404).end();
    res.set('Cache-Control', 'no-cache').type(type).send(readFileSync(join(PAGE_DIR, String(req.params.asset)), 'utf8'));
  }

  private ticket(req: Request, res: Response): void {
    const room = this.found(req, res);
    if (!room) return;
    const expires = Date.now() + TICKET_MS;
    res.set('Cache-Control', 'no-store').json({ ticket: `${expires}.${this.sign(room.room, expires)}`, room: room.room, ...room.format });
  }

  private sign(room: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${room}\n${expires}`).digest('base64url');
  }

  private validTicket(room: string, ticket: string): boolean {
    const [expires, mac] = ticket.split('.');
    const when = Number(expires);
    if (!Number.isFinite(when) || when < Date.now() || !mac) return false;
    const want = Buffer.from(this.sign(room, when));
    const got = Buffer.from(mac);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://host');
    } catch {
      return; // not an address of ours
    }
    if (!url.pathname.startsWith(this.prefix) || !url.pathname.endsWith('/ws')) return; // another listener's (Node-RED's editor, websocket nodes)
    let name: string;
    try {
      name = decodeURIComponent(url.pathname.slice(this.prefix.length, -'/ws'.length));
    } catch {
      // A listener that throws would take Node-RED down: a malformed address is only refused.
      return refuse(socket, 400, 'malformed address');
    }
    const room = this.rooms.get(name);
    if (!room) return refuse(socket, 404, 'no sound card serves this room');
    // A page of another site must not open the microphone stream of this one (cross-site WebSocket hijacking).
    const origin = req.headers.origin;
    if (origin !== undefined && !sameHost(origin, req.headers.host)) return refuse(socket, 403, 'the page is not from this Node-RED');
    if (!room.allows(url.searchParams.get('token') ?? '') || !this.validTicket(name, url.searchParams.get('ticket') ?? '')) return refuse(socket, 401, 'wrong or missing token or ticket');
    if (this.sockets >= MAX_SOCKETS) return refuse(socket, 503, 'too many browser pages connected');
    this.sockets++;
    socket.once('close', () => this.sockets--);
    this.wss.handleUpgrade(req, socket, head, (ws) => room.accept(new BrowserSession(ws, name, room.format)));
  }
}

function sameHost(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/** One server per Node-RED (the test helper starts several in one process). */
const servers = new WeakMap<Server, BrowserServer>();

export function browserServer(host: VoiceHost): BrowserServer {
  let server = servers.get(host.server);
  if (!server) servers.set(host.server, (server = new BrowserServer(host)));
  return server;
}
