import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { CHROMIUM } from './chromium';
import { ROOT } from './paths';
import { until } from './wait';

/** What a hook saw a node send (the message as delivered, one per wire). */
export interface Sent {
  source: string;
  /** The node the wire led to: a message sent on a wire to two nodes is delivered (and seen) twice. */
  destination: string;
  msg: Record<string, unknown>;
}

interface RedRuntime {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: express.Express;
  httpNode: express.Express;
  hooks: { add(name: string, fn: (event: { source: { id: string }; destination: { id: string }; msg: Record<string, unknown> }) => void): void; remove(name: string): void };
  nodes: { getNode(id: string): { receive(msg: Record<string, unknown>): void } | null };
}

/**
 * Node-RED 4.1 of the checkout running in this process, with this package's
 * nodes from dist/ (npm run build first), its HTTP nodes and admin API on
 * 127.0.0.1: the real runtime, with hooks to see what nodes send and a way
 * to give a node a message. Start one per process: a second runtime started
 * in the same process after the first stopped loses its nodes' credentials (a
 * card's token), so suites share one (test/e2e/browser-voice.test.ts).
 */
export class VoiceRed {
  /** Ends a suite's use of the runtime another suite goes on with: its flows stop (cards close, pages are let go). */
  async release(): Promise<void> {
    this.onSent = undefined;
    await this.deploy([]);
  }

  readonly sent: Sent[] = [];
  /** Called with each message as it is delivered (timings without polling). */
  onSent: ((source: string, msg: Record<string, unknown>) => void) | undefined;
  base = '';
  private readonly userDir = mkdtempSync(join(tmpdir(), 'rv-browser-'));
  private server: Server | undefined;
  private red: RedRuntime | undefined;

  async start(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const red = require('node-red') as RedRuntime;
    const app = express();
    const server = createServer(app);
    writeFileSync(join(this.userDir, 'flows.json'), '[]');
    red.init(server, {
      userDir: this.userDir,
      flowFile: 'flows.json',
      credentialSecret: false,
      nodesDir: [ROOT],
      httpAdminRoot: '/admin',
      httpNodeRoot: '/',
      uiHost: '127.0.0.1',
      logging: { console: { level: process.env.RV_LOG ?? 'warn' } },
      editorTheme: { tours: false },
      telemetry: { enabled: false },
    });
    app.use('/admin', red.httpAdmin);
    app.use('/', red.httpNode);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await red.start();
    red.hooks.add('postDeliver.rvtest', (event) => {
      this.sent.push({ source: event.source.id, destination: event.destination.id, msg: event.msg });
      this.onSent?.(event.source.id, event.msg);
    });
    this.red = red;
    this.server = server;
  }

  /** Replaces the running flows (a full deploy); credentials go in each node's `credentials`. */
  async deploy(flows: unknown[]): Promise<void> {
    const res = await fetch(`${this.base}/admin/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1' },
      body: JSON.stringify(flows),
    });
    if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
    this.sent.length = 0;
  }

  /** Gives the node a message, as if a wire brought it. */
  inject(id: string, msg: Record<string, unknown>): void {
    const node = this.red?.nodes.getNode(id);
    if (!node) throw new Error(`no node ${id}`);
    node.receive(msg);
  }

  from(id: string): Record<string, unknown>[] {
    return this.sent.filter((s) => s.source === id).map((s) => s.msg);
  }

  async stop(): Promise<void> {
    this.red?.hooks.remove('postDeliver.rvtest');
    await this.red?.stop();
    await new Promise((r) => this.server?.close(r));
    rmSync(this.userDir, { recursive: true, force: true });
  }
}

/** Headless Chromium whose microphone plays this WAV (looped) and whose permission prompts say yes. */
export function launchVoiceChromium(clip: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${clip}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Opens a room's page and presses Start; resolves when the page is connected and sending. */
export async function openRoom(context: BrowserContext, base: string, room: string, query = ''): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/voice/${room}${query}`);
  await page.click('#start');
  await page.waitForFunction(() => (window as unknown as { voice: { connected: boolean; sent: number } }).voice.connected && (window as unknown as { voice: { sent: number } }).voice.sent > 5, undefined, { timeout: 30_000 });
  return page;
}

/** The page's counters (window.voice). */
export function pageState(page: Page): Promise<{ connected: boolean; sent: number; received: number; played: number; error: string; track: Record<string, unknown> | null }> {
  return page.evaluate(() => {
    const v = (window as unknown as { voice: Record<string, unknown> }).voice;
    return { connected: v.connected, sent: v.sent, received: v.received, played: v.played, error: v.error, track: v.track } as never;
  });
}

export { until };
