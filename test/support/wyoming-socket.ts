import { connect, type Socket } from 'node:net';
import { EventParser, encodeEvent, type WyomingEvent } from '../../lib/wyoming/framing';

/** A raw TCP client for the bad-input tests: sends any bytes, reads what the server answers. */
export class RawClient {
  readonly events: WyomingEvent[] = [];
  closed = false;
  private readonly parser = new EventParser();
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (b) => {
      this.events.push(...this.parser.push(b));
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  send(type: string, data?: Record<string, unknown>, payload?: Buffer): void {
    this.socket.write(encodeEvent(type, data, payload));
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Resolves once an event of the type has arrived (or the socket closed); the event, if any. */
  async next(type: string, timeoutMs = 10_000): Promise<WyomingEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.type === type);
      if (found || this.closed) return found;
      if (Date.now() > deadline) throw new Error(`no ${type} within ${timeoutMs} ms (got ${this.events.map((e) => e.type).join(', ') || 'nothing'})`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Resolves once the server has closed the connection. */
  async whenClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`the server did not close the connection within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
