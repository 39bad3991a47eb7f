import { timingSafeEqual } from 'node:crypto';
import { DeviceError, type AudioBackend, type AudioDevice, type DeviceStream, type OpenRequest, type StreamHandlers } from './backend';
import { CLOSE, type BrowserSession, type SessionFormat } from './browser-session';

/** Room names go into a URL path and a status line: short, plain. */
export const ROOM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** The one "device" a browser room has: the page's microphone and speaker. */
const PAGE_DEVICE: AudioDevice = { name: 'browser page', inputChannels: 1, outputChannels: 1, defaultInput: true, defaultOutput: true };

/**
 * The `browser` backend of one sound card: the room its page is served for.
 * Opening the card waits until a page of the room has started (the card shows
 * "waiting for browser" meanwhile, no error); a page that leaves or
 * misbehaves loses the stream, and the card reopens, waiting for the next one.
 * The newest page of a room takes it over (a reload, a second tablet): the
 * older one is told so and does not reconnect.
 */
export class BrowserRoom implements AudioBackend {
  readonly name = 'browser' as const;
  private session: BrowserSession | undefined;
  private waiter: { resolve: (s: BrowserSession) => void; reject: (e: Error) => void } | undefined;
  private disposed = false;

  constructor(
    readonly room: string,
    readonly format: SessionFormat,
    private readonly token: string,
  ) {}

  /** Whether a request may use this room: the token, compared in constant time ('' = none needed). */
  allows(token: string): boolean {
    if (!this.token) return true;
    const a = Buffer.from(token);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** A page connected: it becomes the room's once it says hello. */
  accept(session: BrowserSession): void {
    if (this.disposed) return session.close(CLOSE.stopped, 'this room was removed');
    session.once('ready', () => {
      const old = this.session;
      this.session = session;
      if (old && old !== session) old.close(CLOSE.replaced, 'another page took this room');
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.resolve(session);
    });
    session.once('closed', () => {
      if (this.session === session) this.session = undefined;
    });
  }

  /** Shows text on the room's page, if one is there: what was heard (partial or final), what the assistant says. */
  show(kind: 'heard' | 'said', text: string, final: boolean): void {
    this.session?.notify({ type: kind, text: text.slice(0, 1000), final });
  }

  async probe(): Promise<AudioDevice[]> {
    return [PAGE_DEVICE];
  }

  async open(request: OpenRequest, handlers: StreamHandlers): Promise<DeviceStream> {
    if (request.sampleRate !== this.format.sampleRate || request.framesPerBuffer !== this.format.frameSamples) {
      throw new DeviceError('OPEN_FAILED', `room "${this.room}" serves ${this.format.frameSamples} samples at ${this.format.sampleRate} Hz, not ${request.framesPerBuffer} at ${request.sampleRate}`);
    }
    const session = this.session?.ready ? this.session : await this.nextSession();
    // The page's hello and its next messages can arrive in one read: it may have broken the protocol already.
    if (!session.ready) throw session.failure ?? gone(session.room);
    return new BrowserStream(session, request, handlers);
  }

  /** The card node is closing: a pending open gives up, the page is told Node-RED stopped serving it. */
  dispose(): void {
    this.disposed = true;
    this.waiter?.reject(new DeviceError('DEVICE_MISSING', `room "${this.room}" is closed`, 'closed'));
    this.waiter = undefined;
    this.session?.close(CLOSE.stopped, 'Node-RED stopped this room');
  }

  private nextSession(): Promise<BrowserSession> {
    if (this.disposed) return Promise.reject(new DeviceError('DEVICE_MISSING', `room "${this.room}" is closed`, 'closed'));
    this.waiter?.reject(new DeviceError('OPEN_FAILED', `room "${this.room}" was opened twice`));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }
}

const gone = (room: string): DeviceError => new DeviceError('PAGE_GONE', `the browser page of room "${room}" went away (closed, reloaded or offline)`);

/** The card's stream on one page: ends when the page goes, and then says why. */
class BrowserStream implements DeviceStream {
  readonly sampleRate: number;
  readonly framesPerBuffer: number;
  private open = true;

  constructor(
    private readonly session: BrowserSession,
    request: OpenRequest,
    handlers: StreamHandlers,
  ) {
    this.sampleRate = request.sampleRate;
    this.framesPerBuffer = request.framesPerBuffer;
    const wantsCapture = request.input !== undefined;
    this.onCapture = (samples) => {
      if (wantsCapture) handlers.capture?.(samples);
    };
    this.onPlayed = () => handlers.played?.();
    this.onClosed = () => {
      if (!this.open) return;
      this.open = false;
      handlers.error?.(session.failure ?? gone(session.room));
    };
    session.on('capture', this.onCapture);
    session.on('played', this.onPlayed);
    session.once('closed', this.onClosed);
  }

  private readonly onCapture: (samples: Int16Array) => void;
  private readonly onPlayed: () => void;
  private readonly onClosed: () => void;

  write(samples: Int16Array): void {
    if (this.open) this.session.play(samples);
  }

  clear(): void {
    if (this.open) this.session.clear();
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    // The page stays connected: a reopen (a node added, a redeploy of the users) takes it again at once.
    this.session.off('capture', this.onCapture);
    this.session.off('played', this.onPlayed);
    this.session.off('closed', this.onClosed);
    // What the page still holds was this stream's: its receipts must not count for the next one.
    this.session.clear();
  }
}
