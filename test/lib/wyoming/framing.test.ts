import assert from 'node:assert/strict';
import { bufferToInt16 } from '../../../lib/audio/pcm';
import { AudioStream } from '../../../lib/wyoming/audio-stream';
import { EventParser, LIMITS, encodeEvent, type WyomingEvent } from '../../../lib/wyoming/framing';
import { Gate } from '../../../lib/wyoming/gate';

const header = (h: Record<string, unknown>) => Buffer.from(`${JSON.stringify(h)}\n`);
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'no error';
};

describe('Wyoming framing', () => {
  const events = Buffer.concat([
    encodeEvent('describe'),
    encodeEvent('audio-chunk', { rate: 16000, width: 2, channels: 1 }, Buffer.from([1, 2, 3, 4])),
    // Data both in the header and in its own block (the block wins), as the library merges them.
    Buffer.concat([header({ type: 'synthesize', data: { text: 'old', keep: 1 }, data_length: 17 }), Buffer.from('{"text":"héllo"}')]),
  ]);
  const expected: WyomingEvent[] = [
    { type: 'describe', data: {} },
    { type: 'audio-chunk', data: { rate: 16000, width: 2, channels: 1 }, payload: Buffer.from([1, 2, 3, 4]) },
    { type: 'synthesize', data: { text: 'héllo', keep: 1 } },
  ];

  it('reads the same events whatever the bytes are cut into (every split point, one byte at a time)', () => {
    for (let cut = 0; cut <= events.length; cut++) {
      const parser = new EventParser();
      assert.deepEqual([...parser.push(events.subarray(0, cut)), ...parser.push(events.subarray(cut))], expected, `cut at ${cut}`);
      assert.equal(parser.held, 0);
    }
    const parser = new EventParser();
    const got: WyomingEvent[] = [];
    for (const byte of events) got.push(...parser.push(Buffer.from([byte])));
    assert.deepEqual(got, expected);
  });

  it('writes what it reads: header with version and lengths, data block, payload', () => {
    const bytes = encodeEvent('audio-chunk', { rate: 22050 }, Buffer.from([9, 9]));
    const line = JSON.parse(bytes.subarray(0, bytes.indexOf(0x0a)).toString()) as Record<string, unknown>;
    assert.deepEqual(line, { type: 'audio-chunk', version: '1.10.2', data_length: 14, payload_length: 2 });
    assert.deepEqual(new EventParser().push(bytes), [{ type: 'audio-chunk', data: { rate: 22050 }, payload: Buffer.from([9, 9]) }]);
  });

  it('refuses, with a code, what it cannot trust', () => {
    const cases: Array<[string, Buffer, string]> = [
      ['a header that is not JSON', Buffer.from('hello there\n'), 'bad-header'],
      ['a JSON header that is not an object', Buffer.from('[1,2]\n'), 'bad-header'],
      ['a header without type', header({ data: {} }), 'bad-header'],
      ['data that is not an object', header({ type: 'x', data: 'text' }), 'bad-header'],
      ['a negative payload_length', header({ type: 'x', payload_length: -1 }), 'bad-header'],
      ['a fractional data_length', header({ type: 'x', data_length: 1.5 }), 'bad-header'],
      ['a payload_length over the limit', header({ type: 'x', payload_length: LIMITS.maxPayloadBytes + 1 }), 'too-big'],
      ['a data block that is not JSON', Buffer.concat([header({ type: 'x', data_length: 3 }), Buffer.from('{{{')]), 'bad-data'],
      ['a line over 1 MB without a newline', Buffer.alloc(LIMITS.maxLineBytes + 1, 0x20), 'too-big'],
      ['a line over 1 MB with its newline', Buffer.concat([Buffer.alloc(LIMITS.maxLineBytes + 1, 0x20), Buffer.from('\n')]), 'too-big'],
    ];
    for (const [what, bytes, expectedCode] of cases) assert.equal(code(() => new EventParser().push(bytes)), expectedCode, what);
  });

  it('waits for a payload that has not arrived and says what it waits for', () => {
    const parser = new EventParser();
    assert.deepEqual(parser.push(Buffer.concat([header({ type: 'audio-chunk', payload_length: 100 }), Buffer.alloc(10)])), []);
    assert.equal(parser.describeWait(), '"audio-chunk": 100 bytes of data and payload announced, 10 received');
  });
});

describe('Wyoming audio stream', () => {
  const format = { rate: 16000, width: 2, channels: 1 };
  const pcm = Buffer.from(Int16Array.from({ length: 1000 }, (_, i) => i * 7 - 3000).buffer);

  it('makes the same 20 ms frames from 1-byte chunks as from one chunk', () => {
    const whole = new AudioStream(format);
    const one = [...whole.push(format, pcm), whole.end()!];
    const bytewise = new AudioStream(format);
    const many = [...[...pcm].flatMap((b) => bytewise.push(format, Buffer.from([b]))), bytewise.end()!];
    assert.deepEqual(many, one);
    assert.deepEqual(one.map((f) => f.length), [320, 320, 320, 40]);
    assert.deepEqual(Array.from(one.flatMap((f) => Array.from(f))), Array.from(bufferToInt16(pcm)));
  });

  it('mixes stereo to mono and refuses what is not 16-bit PCM in range, or changes format mid-stream', () => {
    const stereo = new AudioStream({ rate: 8000, width: 2, channels: 2 });
    const [frame] = stereo.push({ rate: 8000, width: 2, channels: 2 }, Buffer.from(Int16Array.from({ length: 320 }, (_, i) => (i % 2 ? 1000 : 3000)).buffer));
    assert.ok(frame.every((s) => s === 2000));
    assert.equal(code(() => new AudioStream(format).push({ ...format, width: 4 }, pcm)), 'bad-audio');
    assert.equal(code(() => new AudioStream(format).push({ ...format, rate: 1000 }, pcm)), 'bad-audio');
    assert.equal(code(() => new AudioStream(format).push({ ...format, rate: 48000 }, pcm)), 'bad-audio');
    assert.equal(code(() => new AudioStream(format).push({ ...format, channels: 0 }, pcm)), 'bad-audio');
  });
});

describe('Wyoming gate', () => {
  it('lets one through at a time, in arrival order; one that leaves while waiting never gets its turn', () => {
    const gate = new Gate<string>();
    assert.equal(gate.enter('a'), true);
    assert.equal(gate.enter('b'), false);
    assert.equal(gate.enter('c'), false);
    assert.equal(gate.leave('b'), undefined);
    assert.equal(gate.leave('a'), 'c');
    assert.equal(gate.current, 'c');
    assert.equal(gate.leave('c'), undefined);
    assert.equal(gate.current, undefined);
  });
});
