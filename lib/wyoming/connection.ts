/**
 * One TCP client: bytes in → Wyoming events (EventParser), events out. A
 * framing error (a header that is not JSON, a line or length over the limits)
 * leaves the stream unreadable: the client gets an `error` event and the
 * socket is closed. So is an event that does not arrive whole in time (a
 * payload_length larger than what was sent).
 */
import type { Socket } from 'node:net';
import { WyomingError } from './errors';
import { EventParser, encodeEvent, type WyomingEvent } from './framing';

export interface ConnectionHandlers {
  event(conn: Connection, event: WyomingEvent): void;
  closed(conn: Connection): void;
}

/** After end(), how long the peer has to close its side before the socket is destroyed. */
const LINGER_MS = 1000;

export class Connection {
  private readonly parser = new EventParser();
  private incomplete: NodeJS.Timeout | undefined;
  private linger: NodeJS.Timeout | undefined;
  /** Requests this connection has made, for their `turn` number. */
  turns = 0;

  constructor(
    readonly id: string,
    private readonly socket: Socket,
    private readonly handlers: ConnectionHandlers,
    private readonly incompleteMs: number,
  ) {
    socket.on('data', (bytes) => this.data(bytes));
    socket.on('error', () => undefined); // a reset by the peer: 'close' follows and cleans up
    socket.on('close', () => {
      clearTimeout(this.incomplete);
      clearTimeout(this.linger);
      handlers.closed(this);
    });
  }

  get closed(): boolean {
    return this.socket.destroyed || this.socket.writableEnded;
  }

  write(type: string, data?: Record<string, unknown>, payload?: Buffer): void {
    if (!this.closed) this.socket.write(encodeEvent(type, data, payload));
  }

  /** Tells the client what went wrong; `fatal` then closes the connection. */
  fail(err: Error, fatal: boolean): void {
    this.write('error', { text: err.message, code: err instanceof WyomingError ? err.code : 'error' });
    if (fatal) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.socket.end();
    this.linger = setTimeout(() => this.socket.destroy(), LINGER_MS);
  }

  private data(bytes: Buffer): void {
    if (this.closed) return;
    let events: WyomingEvent[];
    try {
      events = this.parser.push(bytes);
    } catch (err) {
      this.fail(err as Error, true);
      return;
    }
    this.watchIncomplete();
    for (const event of events) {
      if (this.closed) return;
      this.handlers.event(this, event);
    }
  }

  /** An event begun must be whole within incompleteMs: a lying payload_length must not hold the socket for ever. */
  private watchIncomplete(): void {
    if (this.parser.held === 0) {
      clearTimeout(this.incomplete);
      this.incomplete = undefined;
    } else if (!this.incomplete) {
      this.incomplete = setTimeout(() => {
        this.fail(new WyomingError(`an event did not arrive whole within ${this.incompleteMs} ms: waiting for ${this.parser.describeWait()}`, 'incomplete'), true);
      }, this.incompleteMs);
    }
  }
}
