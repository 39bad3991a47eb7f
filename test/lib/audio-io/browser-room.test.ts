import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import WebSocket from 'ws';
import { BrowserRoom } from '../../../lib/audio-io/browser-room';
import { BrowserServer } from '../../../lib/audio-io/browser-server';
import { SoundCard, type CardState } from '../../../lib/audio-io/sound-card';
import { sleep, until } from '../../support/wait';

/**
 * The browser backend against pages that misbehave, over a real HTTP server
 * and WebSocket on 127.0.0.1, with a real SoundCard on top: each bad page is
 * closed with a reason it can show, the card reports it with a code, and a
 * good page afterwards works.
 */
const FRAME = 320;

interface Client {
  ws: WebSocket;
  texts: Array<Record<string, unknown>>;
  binaries: Buffer[];
  closed: Promise<{ code: number; reason: string }>;
}

describe('browser backend over a real WebSocket: good and bad pages (issue #18)', function () {
  this.timeout(60_000);
  let server: Server;
  let base: string;
  let room: BrowserRoom;
  let card: SoundCard;
  let remove: () => void;
  const states: Array<{ state: CardState; code?: string; message?: string }> = [];
  const captured: Int16Array[] = [];

  beforeEach(async () => {
    const app = express();
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const voice = new BrowserServer({ server, httpNode: app, httpNodeRoot: '/' });
    room = new BrowserRoom('hall', { sampleRate: 16000, frameSamples: FRAME }, '');
    remove = voice.add(room);
    card = new SoundCard(() => room, { input: '', output: '', sampleRate: 16000, frameMs: 20, room: 'hall', opening: 'waiting for browser' });
    states.length = 0;
    captured.length = 0;
    card.on('state', (state: CardState, err?: Error & { code?: string }) => states.push({ state, code: err?.code, message: err?.message }));
    card.addInput((s) => captured.push(s));
  });

  afterEach(async () => {
    remove();
    await card.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  async function connect(hello: Record<string, unknown> | null = { type: 'hello', sampleRate: 16000, frameSamples: FRAME }, origin?: string): Promise<Client> {
    const { ticket } = (await (await fetch(`http://${base}/voice/hall/ticket`)).json()) as { ticket: string };
    const ws = new WebSocket(`ws://${base}/voice/hall/ws?ticket=${ticket}`, origin ? { origin } : {});
    const c: Client = { ws, texts: [], binaries: [], closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }))) };
    ws.on('message', (data: Buffer | string) => (typeof data === 'string' ? c.texts.push(JSON.parse(data) as Record<string, unknown>) : c.binaries.push(data)));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await until(() => c.texts.some((t) => t.type === 'config'), 5000, 'the config message');
    if (hello) ws.send(JSON.stringify(hello));
    return c;
  }

  /** Sends `seconds` of frames at `speed` times real time. */
  async function stream(c: Client, seconds: number, speed = 1, bytes = FRAME * 2): Promise<void> {
    const frames = Math.round(seconds * 50);
    const start = performance.now();
    for (let i = 0; i < frames && c.ws.readyState === WebSocket.OPEN; i++) {
      c.ws.send(Buffer.alloc(bytes, i % 200));
      const due = start + ((i + 1) * 20) / speed;
      await sleep(Math.max(0, due - performance.now()));
    }
  }

  const lastError = () => states.filter((s) => s.code).at(-1);

  it('a good page opens the card; its frames are captured as sent', async () => {
    const c = await connect();
    await stream(c, 0.5);
    await until(() => captured.length >= 20, 5000, 'capture');
    assert.ok(states.some((s) => s.state === 'open'));
    // Frame i is filled with the byte i: each arrives whole, in order (the first may come before the card listens).
    assert.ok(captured.every((f) => f.length === FRAME && f.every((v) => v === f[0])));
    for (let i = 1; i < captured.length; i++) assert.equal(captured[i][0] - captured[i - 1][0], 257);
    c.ws.close();
  });

  it('frames of the wrong size: closed with the reason, BAD_AUDIO on the card, a good page works after', async () => {
    const c = await connect();
    c.ws.send(Buffer.alloc(500));
    const closed = await c.closed;
    assert.equal(closed.code, 4003);
    assert.match(closed.reason, /500 bytes; this card takes 640/);
    await until(() => lastError()?.code === 'BAD_AUDIO', 5000, 'BAD_AUDIO');
    // The card retries after 1 s: the good page streams until it has the card.
    const good = await connect();
    const streaming = stream(good, 5);
    await until(() => states.at(-1)?.state === 'open' && captured.length > 5, 10_000, 'the card open again');
    await streaming;
    good.ws.close();
  });

  it('a page at another rate or buffer size is refused at its hello', async () => {
    const c = await connect({ type: 'hello', sampleRate: 48000, frameSamples: 960 });
    const closed = await c.closed;
    assert.equal(closed.code, 4003);
    assert.match(closed.reason, /960 samples at 48000 Hz; this card takes 320 at 16000 Hz/);
  });

  it('binary garbage, text garbage and audio before hello: each closed with a clear reason, nothing captured', async () => {
    const noHello = await connect(null);
    noHello.ws.send(Buffer.alloc(FRAME * 2, 7));
    assert.match((await noHello.closed).reason, /audio before its hello/);
    const text = await connect();
    text.ws.send('{"type":');
    assert.match((await text.closed).reason, /not JSON/);
    const unknown = await connect();
    unknown.ws.send(JSON.stringify({ type: 'launch-missiles' }));
    assert.match((await unknown.closed).reason, /unknown message/);
    const huge = await connect();
    huge.ws.send(Buffer.alloc(200_000));
    assert.equal((await huge.closed).code, 1009, 'a message over 64 KiB closes the socket (ws: too big)');
    assert.equal(captured.length, 0);
    const malformed = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://${base}/voice/%E0%A4%A/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(-1));
    });
    assert.equal(malformed, 400, 'a malformed address is refused, the server lives on');
  });

  it('a flood (4x real time) is cut with FLOOD after its 3 s burst allowance; real time is fine', async () => {
    const c = await connect();
    await stream(c, 10, 4);
    const closed = await c.closed;
    assert.equal(closed.code, 4008);
    await until(() => lastError()?.code === 'FLOOD', 5000, 'FLOOD');
    // 4x real time for t seconds is 3t seconds ahead: cut at about 1 s, with at most ~4 s of audio taken.
    assert.ok(captured.length <= 4 * 50 + 10, `took ${captured.length} frames`);
  });

  it('a page that never starts, and one that starts then goes quiet, are closed (SILENT)', async () => {
    const quiet = await connect();
    await stream(quiet, 0.2);
    const closed = await quiet.closed;
    assert.equal(closed.code, 4009);
    assert.match(closed.reason, /sent nothing for 2.5 s/);
    await until(() => lastError()?.code === 'SILENT', 5000, 'SILENT on the card');
    const never = await connect(null);
    assert.equal((await never.closed).code, 4009);
  });

  it("the page's receipts pair each captured buffer with what was played in it (echo cancellation's reference)", async () => {
    const pairs: Array<{ mic: number; played: number }> = [];
    const stopRef = card.addInputWithPlayback((mic, played) => pairs.push({ mic: mic[0], played: played[0] }));
    let sink: { write(s: Int16Array): void } | undefined;
    let written = 0;
    const write = () => sink?.write(new Int16Array(FRAME).fill(1000 + written++));
    const stopOut = card.addOutput({ attach: (s) => (sink = s), onPlayed: () => written < 25 && write() });
    const c = await connect();
    // The page: receipts each buffer as it "plays" it, and captures one buffer per 20 ms meanwhile.
    c.ws.on('message', (data: Buffer | string) => {
      const epoch = (c.texts.filter((t) => t.type === 'clear').at(-1)?.epoch as number | undefined) ?? 0;
      if (typeof data !== 'string') c.ws.send(JSON.stringify({ type: 'played', epoch, count: 1 }));
    });
    await until(() => sink !== undefined, 10_000, 'the card open with output');
    write();
    write();
    await stream(c, 1.5);
    await until(() => pairs.filter((p) => p.played >= 1000).length >= 20, 10_000, 'played buffers paired');
    const played = pairs.map((p) => p.played).filter((v) => v >= 1000);
    // In order, each once: the reference is what the page played, not a guess.
    for (let i = 1; i < played.length; i++) assert.equal(played[i] - played[i - 1], 1);
    stopOut();
    stopRef();
    c.ws.close();
  });

  it('receipts for more than was sent, or of an older clear, count for nothing', async () => {
    const played: number[] = [];
    const c = await connect();
    const stream2 = await room.open({ sampleRate: 16000, framesPerBuffer: FRAME, output: '' }, { played: () => played.push(1) });
    stream2.write(new Int16Array(FRAME));
    stream2.write(new Int16Array(FRAME));
    await until(() => c.binaries.length === 2, 5000, 'two buffers at the page');
    c.ws.send(JSON.stringify({ type: 'played', epoch: 0, count: 50 }));
    await until(() => played.length === 2, 5000, 'two receipts');
    stream2.clear();
    stream2.write(new Int16Array(FRAME));
    c.ws.send(JSON.stringify({ type: 'played', epoch: 0, count: 1 }));
    await sleep(200);
    assert.equal(played.length, 2, 'a receipt of before the clear is ignored');
    await stream2.close();
    c.ws.close();
  });

  it('100 pages at once: 32 sockets at most, the rest get 503; memory stays bounded; a page afterwards works', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const { ticket } = (await (await fetch(`http://${base}/voice/hall/ticket`)).json()) as { ticket: string };
    const outcomes = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<{ status: number; ws?: WebSocket }>((resolve) => {
            const ws = new WebSocket(`ws://${base}/voice/hall/ws?ticket=${ticket}`);
            ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
            ws.on('open', () => resolve({ status: 101, ws }));
            ws.on('error', () => resolve({ status: -1 }));
          }),
      ),
    );
    const open = outcomes.filter((o) => o.status === 101);
    assert.equal(open.length, 32);
    assert.equal(outcomes.filter((o) => o.status === 503).length, 68);
    // Each sends a burst of audio without a hello: every one is closed.
    for (const o of open) o.ws!.send(Buffer.alloc(FRAME * 2));
    await until(() => open.every((o) => o.ws!.readyState === WebSocket.CLOSED), 10_000, 'all closed');
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 50 * 1024 * 1024, `heap grew ${Math.round(grown / 1024 / 1024)} MB`);
    await sleep(200);
    const good = await connect();
    await stream(good, 0.4);
    await until(() => captured.length > 5, 10_000, 'capture from the page after the crowd');
    good.ws.close();
  });
});
