import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WyomingError } from '../../lib/wyoming/errors';
import { EventParser, LIMITS, encodeEvent, type WyomingEvent } from '../../lib/wyoming/framing';
import { SERVER_DEFAULTS, WyomingServer } from '../../lib/wyoming/server';
import { fuzzParams } from '../support/fuzz-guard';
import { until } from '../support/wait';
import { RawClient } from '../support/wyoming-socket';

const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 });
const eventArb: fc.Arbitrary<WyomingEvent> = fc
  .record({ type: fc.string({ minLength: 1, maxLength: 20 }), data: jsonObject, payload: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: undefined }) })
  // As JSON.parse makes them (fast-check's dictionaries have no prototype).
  .map(({ type, data, payload }) => ({ type, data: JSON.parse(JSON.stringify(data)) as Record<string, unknown>, ...(payload ? { payload: Buffer.from(payload) } : {}) }));

/** Cuts bytes at the given points (sorted, deduplicated, in range). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  return [...at, bytes.length].map((end, i) => bytes.subarray(i ? at[i - 1] : 0, end));
}

describe('fuzz: Wyoming framing and server', function () {
  this.timeout(120_000);

  it('any events, cut anywhere, parse back to themselves', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (events, points) => {
        const parser = new EventParser();
        const got = cut(Buffer.concat(events.map((e) => encodeEvent(e.type, e.data, e.payload))), points).flatMap((piece) => parser.push(piece));
        assert.deepEqual(got, events);
        assert.equal(parser.held, 0);
      }),
      fuzzParams(300),
    );
  });

  it('any bytes: whole events or a WyomingError, never another exception, never more held than the limits', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      // Headers that look right with lengths and data that may lie.
      fc.record({ type: fc.string(), data_length: fc.oneof(fc.integer({ min: -5, max: 50 }), fc.double()), payload_length: fc.integer({ min: -5, max: 50 }), tail: fc.uint8Array({ maxLength: 80 }) }).map(({ tail, ...h }) => Buffer.concat([Buffer.from(`${JSON.stringify(h)}\n`), Buffer.from(tail)])),
    );
    fc.assert(
      fc.property(fc.array(bytesArb, { minLength: 1, maxLength: 6 }), (pieces) => {
        const parser = new EventParser();
        try {
          for (const piece of pieces) for (const e of parser.push(piece)) assert.equal(typeof e.type, 'string');
        } catch (err) {
          assert.ok(err instanceof WyomingError, String(err));
          return;
        }
        assert.ok(parser.held <= LIMITS.maxLineBytes + LIMITS.maxDataBytes + LIMITS.maxPayloadBytes);
      }),
      fuzzParams(500),
    );
  });

  it('a server fed random events by several clients keeps answering describe, and its sockets go back to zero', async () => {
    const server = new WyomingServer({ ...SERVER_DEFAULTS, port: 0, host: '127.0.0.1', services: ['asr', 'tts', 'handle'], incompleteMs: 200, answerTimeoutMs: 300, transcriptGraceMs: 50 });
    const port = await server.start();
    // A flow that answers nothing: every request ends by timeout, by the client leaving, or by an error.
    for (const service of ['asr', 'tts', 'handle'] as const) server.listen(service, () => undefined);
    const types = ['describe', 'transcribe', 'audio-start', 'audio-chunk', 'audio-stop', 'synthesize', 'synthesize-start', 'synthesize-chunk', 'synthesize-stop', 'transcript', 'ping', 'bogus'];
    const stepArb = fc.record({ type: fc.constantFrom(...types), rate: fc.constantFrom(16000, 22050, 7, 'x'), width: fc.constantFrom(2, 4), text: fc.oneof(fc.string({ maxLength: 30 }), fc.integer()), bytes: fc.nat({ max: 700 }) });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(stepArb, { maxLength: 10 }), { minLength: 1, maxLength: 4 }), async (clients) => {
          const sockets = await Promise.all(clients.map(() => RawClient.open(port)));
          for (const [i, steps] of clients.entries()) {
            for (const s of steps) sockets[i].send(s.type, { rate: s.rate, width: s.width, channels: 1, text: s.text }, s.bytes ? Buffer.alloc(s.bytes, 3) : undefined);
          }
          const probe = await RawClient.open(port);
          probe.send('describe');
          assert.ok(await probe.next('info', 5000), 'the server still answers');
          for (const s of [...sockets, probe]) s.close();
          await until(() => server.clients === 0, 5000, 'the sockets to close');
        }),
        fuzzParams(40),
      );
    } finally {
      await server.close();
    }
  });
});
