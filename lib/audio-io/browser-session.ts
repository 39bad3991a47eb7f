import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { CodedError } from '../coded-error';

/**
 * One browser page on its WebSocket, as the sound card needs it: the page says
 * hello with the format it sends, then sends one binary s16le frame per card
 * buffer and a receipt for each played buffer; Node-RED sends it the buffers to
 * play and `clear` on an interrupt. Whatever the page sends that breaks this
 * closes the socket with a reason the page shows, and reaches the card as an
 * error with a code (BAD_AUDIO, FLOOD, SILENT): nothing a page sends can grow
 * memory or stop the flow.
 */
export interface SessionFormat {
  sampleRate: number;
  frameSamples: number;
}

/** What a page sends before its first frame (browsers need a click to start audio). */
const HELLO_TIMEOUT_MS = 10_000;
/** A page that started and then sends nothing for this long is gone (a frozen tab): said before the card's own 3 s watchdog. */
const IDLE_TIMEOUT_MS = 2_500;
/** Burst a page may send ahead of real time (a page whose main thread stalled catches up): 3 s. A flood of 2x real time runs out of it in 3 s. */
const BURST_MS = 3000;

/** WebSocket close codes the page reads (4000-4999 are the application's own). */
export const CLOSE = {
  replaced: 4000,
  badAudio: 4003,
  flood: 4008,
  silent: 4009,
  stopped: 1001,
} as const;

export class BrowserSessionError extends CodedError {}

export class BrowserSession extends EventEmitter {
  private started = false;
  private closed = false;
  private timer: NodeJS.Timeout;
  /** Frames the page may still send ahead of real time (a token bucket refilled by the clock). */
  private credit: number;
  private lastRefill = performance.now();
  /** Playback: frames sent since the last clear and not yet receipted, and the clear they belong to. */
  private outstanding = 0;
  private epoch = 0;
  /** Why the session ended, when the page broke the protocol. */
  failure: Error | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly room: string,
    readonly format: SessionFormat,
  ) {
    super();
    this.credit = this.burstFrames();
    this.timer = setTimeout(() => this.fail(CLOSE.silent, 'SILENT', 'browser silent', `the page did not start within ${HELLO_TIMEOUT_MS / 1000} s`), HELLO_TIMEOUT_MS);
    // ws 7 (Node-RED's) gives text as a string and no flag; ws 8 gives a Buffer and the flag.
    ws.on('message', (data: Buffer | string, isBinary?: boolean) => this.onMessage(data, typeof isBinary === 'boolean' ? isBinary : typeof data !== 'string'));
    ws.on('close', () => this.end());
    ws.on('error', () => this.end());
    this.sendJson({ type: 'config', room, sampleRate: format.sampleRate, frameSamples: format.frameSamples });
  }

  get ready(): boolean {
    return this.started && !this.closed;
  }

  /** One card buffer to play. Dropped when the socket is gone (the card then reopens). */
  play(samples: Int16Array): void {
    if (!this.ready) return;
    this.outstanding++;
    this.ws.send(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
  }

  /** Drops what the page holds; receipts for it that cross this on the wire are ignored. */
  clear(): void {
    this.outstanding = 0;
    this.epoch++;
    this.sendJson({ type: 'clear', epoch: this.epoch });
  }

  /** A text message for the page to show (what was heard, what the assistant says). */
  notify(value: Record<string, unknown>): void {
    if (this.ready) this.sendJson(value);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.ws.close(code, reason.slice(0, 120));
    this.end();
  }

  private onMessage(message: Buffer | string, isBinary: boolean): void {
    if (this.closed) return;
    if (!isBinary) return this.onText(message.toString());
    const data = Buffer.isBuffer(message) ? message : Buffer.from(message);
    if (!this.started) return this.fail(CLOSE.badAudio, 'BAD_AUDIO', 'bad browser audio', 'the page sent audio before its hello');
    const bytes = this.format.frameSamples * 2;
    if (data.length !== bytes) {
      return this.fail(CLOSE.badAudio, 'BAD_AUDIO', 'bad browser audio', `the page sent a frame of ${data.length} bytes; this card takes ${bytes} (${this.format.frameSamples} samples s16le at ${this.format.sampleRate} Hz)`);
    }
    if (!this.takeCredit()) {
      return this.fail(CLOSE.flood, 'FLOOD', 'browser flood', `the page sent audio faster than real time (over ${BURST_MS / 1000} s ahead)`);
    }
    this.resetIdle();
    const samples = new Int16Array(this.format.frameSamples);
    for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
    this.emit('capture', samples);
  }

  private onText(text: string): void {
    let msg: { type?: unknown; sampleRate?: unknown; frameSamples?: unknown; epoch?: unknown; count?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return this.fail(CLOSE.badAudio, 'BAD_AUDIO', 'bad browser message', 'the page sent text that is not JSON');
    }
    if (msg?.type === 'hello') {
      if (msg.sampleRate !== this.format.sampleRate || msg.frameSamples !== this.format.frameSamples) {
        return this.fail(
          CLOSE.badAudio,
          'BAD_AUDIO',
          'bad browser audio',
          `the page sends ${String(msg.frameSamples)} samples at ${String(msg.sampleRate)} Hz; this card takes ${this.format.frameSamples} at ${this.format.sampleRate} Hz`,
        );
      }
      if (this.started) return;
      this.started = true;
      this.lastRefill = performance.now();
      this.resetIdle();
      this.emit('ready');
      return;
    }
    if (msg?.type === 'played') {
      // Receipts of an older clear, or for more than was sent, are a page's mistake: ignored, never counted.
      if (msg.epoch !== this.epoch || typeof msg.count !== 'number' || !Number.isInteger(msg.count) || msg.count < 1) return;
      const count = Math.min(msg.count, this.outstanding);
      this.outstanding -= count;
      for (let i = 0; i < count; i++) this.emit('played');
      return;
    }
    this.fail(CLOSE.badAudio, 'BAD_AUDIO', 'bad browser message', `the page sent an unknown message (type ${JSON.stringify(String(msg?.type)).slice(0, 40)})`);
  }

  private takeCredit(): boolean {
    const now = performance.now();
    const frameMs = (this.format.frameSamples / this.format.sampleRate) * 1000;
    this.credit = Math.min(this.burstFrames(), this.credit + (now - this.lastRefill) / frameMs);
    this.lastRefill = now;
    if (this.credit < 1) return false;
    this.credit--;
    return true;
  }

  private burstFrames(): number {
    return (BURST_MS / 1000) * (this.format.sampleRate / this.format.frameSamples);
  }

  private resetIdle(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fail(CLOSE.silent, 'SILENT', 'browser silent', `the page sent nothing for ${IDLE_TIMEOUT_MS / 1000} s`), IDLE_TIMEOUT_MS);
  }

  private fail(code: number, errorCode: string, statusText: string, message: string): void {
    const err = new BrowserSessionError(`room "${this.room}": ${message}`, errorCode, statusText);
    this.failure = err;
    this.sendJson({ type: 'error', code: errorCode, message });
    this.emit('failed', err);
    this.close(code, message);
  }

  private sendJson(value: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(value));
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.emit('closed');
  }
}
