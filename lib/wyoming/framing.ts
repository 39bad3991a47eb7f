/**
 * Wyoming's wire format (rhasspy/wyoming): one JSON header line, then
 * `data_length` bytes of JSON merged into the header's `data`, then
 * `payload_length` bytes of binary payload (audio). The parser is fed bytes as
 * they arrive and refuses, with a WyomingError, anything it cannot trust: a
 * header that is not a JSON object with a string `type`, a line or a length
 * beyond the limits (a peer must not make the server buffer without bound).
 */
import { WyomingError } from './errors';

export interface WyomingEvent {
  type: string;
  data: Record<string, unknown>;
  payload?: Buffer;
}

/** The version we write in every header, the library release our framing follows. */
export const PROTOCOL_VERSION = '1.10.2';

export const LIMITS = {
  /** A header line (JSON) longer than this is refused. */
  maxLineBytes: 1024 * 1024,
  /** The extra JSON data block. */
  maxDataBytes: 1024 * 1024,
  /** One payload: ten seconds of 48 kHz stereo s16le is 1.9 MB; HA sends ~30 ms chunks. */
  maxPayloadBytes: 4 * 1024 * 1024,
};

const NEWLINE = 0x0a;

interface Pending {
  type: string;
  data: Record<string, unknown>;
  dataLength: number;
  payloadLength: number;
}

function length(header: Record<string, unknown>, key: string, max: number): number {
  const value = header[key];
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new WyomingError(`${key} is ${JSON.stringify(value)}: expected a whole number of bytes`, 'bad-header');
  if (value > max) throw new WyomingError(`${key} is ${value} bytes; the limit is ${max}`, 'too-big');
  return value;
}

function parseHeader(line: Buffer): Pending {
  let header: unknown;
  try {
    header = JSON.parse(line.toString('utf8'));
  } catch (err) {
    throw new WyomingError(`the header line is not JSON (${(err as Error).message})`, 'bad-header');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new WyomingError('the header line is not a JSON object', 'bad-header');
  const h = header as Record<string, unknown>;
  if (typeof h.type !== 'string' || h.type === '') throw new WyomingError('the header has no "type"', 'bad-header');
  const data = h.data ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new WyomingError('the header\'s "data" is not an object', 'bad-header');
  return { type: h.type, data: data as Record<string, unknown>, dataLength: length(h, 'data_length', LIMITS.maxDataBytes), payloadLength: length(h, 'payload_length', LIMITS.maxPayloadBytes) };
}

/** Incremental parser: push() the bytes of a connection, get the whole events they complete. */
export class EventParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending: Pending | undefined;

  /** Bytes held for an event not yet complete. */
  get held(): number {
    return this.buffered;
  }

  /** What the event being read still waits for, for an error message ('' when between events). */
  describeWait(): string {
    if (!this.pending) return this.buffered ? `a header line (${this.buffered} bytes so far, no newline)` : '';
    const want = this.pending.dataLength + this.pending.payloadLength;
    return `"${this.pending.type}": ${want} bytes of data and payload announced, ${this.buffered} received`;
  }

  push(bytes: Buffer): WyomingEvent[] {
    this.chunks.push(bytes);
    this.buffered += bytes.length;
    const events: WyomingEvent[] = [];
    for (let event = this.next(); event; event = this.next()) events.push(event);
    return events;
  }

  private next(): WyomingEvent | undefined {
    if (!this.pending) {
      const all = this.joined();
      const end = all.indexOf(NEWLINE);
      if (end < 0) {
        if (all.length > LIMITS.maxLineBytes) throw new WyomingError(`a header line longer than ${LIMITS.maxLineBytes} bytes`, 'too-big');
        return undefined;
      }
      if (end > LIMITS.maxLineBytes) throw new WyomingError(`a header line longer than ${LIMITS.maxLineBytes} bytes`, 'too-big');
      this.pending = parseHeader(all.subarray(0, end));
      this.keep(all.subarray(end + 1));
    }
    const { type, data, dataLength, payloadLength } = this.pending;
    if (this.buffered < dataLength + payloadLength) return undefined;
    const all = this.joined();
    let merged = data;
    if (dataLength > 0) {
      let extra: unknown;
      try {
        extra = JSON.parse(all.subarray(0, dataLength).toString('utf8'));
      } catch (err) {
        throw new WyomingError(`the data block of "${type}" is not JSON (${(err as Error).message})`, 'bad-data');
      }
      if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new WyomingError(`the data block of "${type}" is not a JSON object`, 'bad-data');
      merged = { ...data, ...(extra as Record<string, unknown>) };
    }
    // A copy: the payload outlives the socket's chunk it was cut from.
    const payload = payloadLength > 0 ? Buffer.from(all.subarray(dataLength, dataLength + payloadLength)) : undefined;
    this.keep(all.subarray(dataLength + payloadLength));
    this.pending = undefined;
    return { type, data: merged, ...(payload ? { payload } : {}) };
  }

  private joined(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private keep(rest: Buffer): void {
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
  }
}

/** The bytes of one event, as the official library writes them (data in its own block, UTF-8, no ASCII escaping). */
export function encodeEvent(type: string, data: Record<string, unknown> = {}, payload?: Buffer): Buffer {
  const header: Record<string, unknown> = { type, version: PROTOCOL_VERSION };
  const dataBytes = Object.keys(data).length ? Buffer.from(JSON.stringify(data), 'utf8') : undefined;
  if (dataBytes) header.data_length = dataBytes.length;
  if (payload?.length) header.payload_length = payload.length;
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`, 'utf8'), ...(dataBytes ? [dataBytes] : []), ...(payload?.length ? [payload] : [])]);
}
