import fc from 'fast-check';
import { CONTROL_TYPES, CONTROL_VERSION, type ControlType } from '../../lib/messages/control';

/**
 * Random messages for the fuzz suites (test/fuzz), and what docs/messages.md
 * says a node must do with each: the oracles below are written from the
 * contract, not from the code under test.
 */
export type Msg = Record<string, unknown>;

/** Every turn id value a message may carry: the run's own ids (so turns recur and go stale), "*", and junk. */
export function turnIdArb(ids: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...ids) },
    { weight: 2, arbitrary: fc.constant('*') },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '__proto__', 'constructor', 42, null, undefined, ['t'], { id: 't' }) },
  );
}

const CANCELS = ['interrupt', 'flush', 'speech-start'] as const;

/** A well-formed control message; cancels are drawn more often (they are what turns stale). */
export function validControlArb(ids: readonly string[]): fc.Arbitrary<Msg> {
  const type = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...CANCELS) }, { weight: 2, arbitrary: fc.constantFrom(...CONTROL_TYPES) });
  return fc
    .record({
      type,
      turnId: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: fc.constant('*') }),
      extra: fc.record(
        { reason: fc.string(), playedMs: fc.oneof(fc.nat(), fc.double()), cut: fc.boolean(), spokenText: fc.oneof(fc.string(), fc.anything()), source: fc.string() },
        { requiredKeys: [] },
      ),
    })
    .map(({ type, turnId, extra }) => ({ topic: 'control', turnId, control: { v: CONTROL_VERSION, type, turnId, ts: Date.now(), ...extra } }));
}

/** A control message with one thing wrong, or msg.control of any shape at all. */
export function brokenControlArb(ids: readonly string[]): fc.Arbitrary<Msg> {
  const broken = fc.oneof(
    fc.record({ v: fc.oneof(fc.constant(0), fc.constant(2), fc.constant('1'), fc.constant(null), fc.double()).filter((v) => v !== CONTROL_VERSION) }),
    fc.record({ type: fc.oneof(fc.string(), fc.constant('INTERRUPT'), fc.constant(null), fc.integer()).filter((t) => !CONTROL_TYPES.includes(t as ControlType)) }),
    fc.record({ turnId: fc.constantFrom('', 7, null, undefined, { id: 'x' }, ['t']) }),
    fc.record({ ts: fc.constantFrom(Number.NaN, Infinity, '2026-01-01', null, undefined) }),
  );
  const bent = fc.tuple(validControlArb(ids), broken).map(([msg, patch]) => ({ ...msg, control: { ...(msg.control as Msg), ...patch } }));
  const shapeless = fc.record({ topic: fc.constant('control'), turnId: turnIdArb(ids), control: fc.oneof(fc.anything({ maxDepth: 2 }), fc.constantFrom('interrupt', 1, true, [], ['interrupt'])) });
  return fc.oneof(bent, shapeless.filter((m) => m.control != null));
}

export function controlArb(ids: readonly string[]): fc.Arbitrary<Msg> {
  return fc.oneof({ weight: 3, arbitrary: validControlArb(ids) }, { weight: 2, arbitrary: brokenControlArb(ids) });
}

/** Why docs/messages.md refuses this msg.control (undefined: a valid control event). */
export function controlProblem(control: unknown): string | undefined {
  if (typeof control !== 'object' || control === null) return 'not an object';
  const c = control as Msg;
  if (c.v !== CONTROL_VERSION) return 'unknown version';
  if (!CONTROL_TYPES.includes(c.type as ControlType)) return 'unknown type';
  if (typeof c.turnId !== 'string' || c.turnId === '') return 'no turn id';
  if (typeof c.ts !== 'number' || !Number.isFinite(c.ts)) return 'no ts';
  return undefined;
}

/** The control event of a message, when it is a valid one. */
export function validControl(msg: Msg): { type: ControlType; turnId: string; [k: string]: unknown } | undefined {
  if (msg.control == null || controlProblem(msg.control)) return undefined;
  return msg.control as { type: ControlType; turnId: string };
}

/** Formats a node must accept, and headers that are wrong in every documented way. */
export const audioHeaderArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ sampleRate: fc.constantFrom(8000, 16000, 16000, 22050, 44100, 48000, 384000), channels: fc.constantFrom(1, 1, 2, 8, undefined), format: fc.constantFrom('s16le', undefined) }) },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        sampleRate: fc.oneof(fc.integer({ min: -1000, max: 500_000 }), fc.double(), fc.constantFrom('16000', null, 7999, 384001, 16000.5)),
        channels: fc.oneof(fc.integer({ min: -1, max: 10 }), fc.constantFrom('1', 1.5, null)),
        format: fc.constantFrom('s16le', 'f32le', 'S16LE', '', 16),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 'pcm', 16000, [16000, 1]) },
);

/** Payloads: short frames of random samples, empty, odd, too long, too big, and not a Buffer at all. */
export const audioPayloadArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.int16Array({ maxLength: 1920 }).map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }).map((n) => Buffer.alloc(2 * n + 1, 7)) },
  // Past the byte limit (TOO_BIG), past 10 s at 8 kHz but under it (TOO_LONG), and the largest allowed at 16 kHz mono.
  { weight: 1, arbitrary: fc.constantFrom(384 * 1024 + 2, 8000 * 2 * 11, 16000 * 2 * 10).map((n) => Buffer.alloc(n, 1)) },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer({ min: 0, max: 255 })), fc.uint8Array()) },
);

/** An audio frame message, mostly well-formed. */
export function audioArb(ids: readonly string[]): fc.Arbitrary<Msg> {
  return fc
    .record({ payload: audioPayloadArb, audio: audioHeaderArb, turnId: turnIdArb(ids), text: fc.option(fc.string(), { nil: undefined }), complete: fc.boolean() }, { requiredKeys: ['payload', 'audio'] })
    .map((m) => ({ topic: 'audio', ...m }));
}

const MIN_RATE = 8000;
const MAX_RATE = 384000;
const MAX_CHANNELS = 8;
const MAX_SECONDS = 10;
const MAX_BYTES = 384 * 1024;

/** The documented reason (err.code) an audio frame is refused; undefined when it must be taken. */
export function audioProblem(msg: Msg): string | undefined {
  const a = msg.audio as Msg | null | undefined;
  if (typeof a !== 'object' || a === null) return 'NO_AUDIO_INFO';
  const rate = a.sampleRate;
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < MIN_RATE || rate > MAX_RATE) return 'BAD_SAMPLE_RATE';
  const ch = a.channels === undefined ? 1 : a.channels;
  if (typeof ch !== 'number' || !Number.isInteger(ch) || ch < 1 || ch > MAX_CHANNELS) return 'BAD_CHANNELS';
  if (a.format !== undefined && a.format !== 's16le') return 'BAD_FORMAT';
  const p = msg.payload;
  if (!Buffer.isBuffer(p)) return 'NO_PAYLOAD';
  if (p.length === 0) return 'EMPTY_PAYLOAD';
  if (p.length % (2 * ch) !== 0) return 'ODD_BYTES';
  if (p.length / (2 * ch) / rate > MAX_SECONDS) return 'TOO_LONG';
  if (p.length > MAX_BYTES) return 'TOO_BIG';
  return undefined;
}

/** Text of every kind: words, empty, blank, any Unicode, longer than any node takes. */
export const textArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.constantFrom('hello', 'the', 'lights', 'are', 'on', 'yes', 'kitchen', 'one', 'two', 'stop.', 'why?'), { minLength: 1, maxLength: 8 }).map((w) => w.join(' ')) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\n\t', '🎉👍', '...', '3:30, 1,250 — ok') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(4001, 20_001).map((n) => 'a'.repeat(n)) },
);

/** A message of no particular kind: random payload and topic, sometimes a flag a node reads. */
export function junkArb(ids: readonly string[]): fc.Arbitrary<Msg> {
  return fc.record(
    {
      topic: fc.oneof(fc.constantFrom('audio', 'transcript', 'llm-chunk', 'metrics', 'reset', 'clear', 'control'), fc.string()),
      payload: fc.oneof(fc.anything({ maxDepth: 2 }), textArb, fc.constantFrom('start', 'stop', 'mute', 'unmute', 'list')),
      turnId: turnIdArb(ids),
      flush: fc.anything({ maxDepth: 0 }),
      stop: fc.oneof(fc.constant(true), fc.anything({ maxDepth: 0 })),
      complete: fc.anything({ maxDepth: 0 }),
    },
    { requiredKeys: ['payload'] },
  );
}

/** A value, short enough for a failure report (buffers by length, long strings cut). */
export function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) return `<Buffer ${(v as { data: unknown[] }).data.length} bytes>`;
    if (typeof v === 'string' && v.length > 60) return `${v.slice(0, 40)}…(${v.length} chars)`;
    if (typeof v === 'bigint') return `${v}n`;
    return v;
  });
}
