import assert from 'node:assert/strict';
import { parsedReader, rawReader, type SseReader, type SseSink } from '../../../lib/llm/sse-lines';
import { fixture } from '../../support/llama-replay';

/** The text of a stream and its number of events, as the reader hands them on. */
function read(make: (sink: SseSink) => SseReader, pieces: Buffer[]): { text: string; events: number } {
  let text = '';
  let events = 0;
  const sink: SseSink = {
    onData(data, contentSent) {
      events++;
      if (data === '[DONE]') return;
      const e = JSON.parse(data) as { content?: string; choices?: { delta?: { content?: string | null } }[] };
      const content = e.content ?? e.choices?.[0]?.delta?.content;
      if (!contentSent && content) text += content;
    },
    onEarlyContent: (t) => (text += t),
  };
  const reader = make(sink);
  for (const p of pieces) reader.feed(p);
  return { text, events };
}

const bytes = (name: string) => Buffer.from(fixture(name));
const expectedCompletion = JSON.parse(fixture('completion.json')).content as string;
/** llama-server's shape with text that is several bytes per character, and CRLF line ends as a proxy may write them. */
const multiByte = Buffer.from(
  ['你好。', '🎉 Ça', ' va? \\"ok\\"', '👨‍👩‍👧'].map((c, i) => `data: {"index":0,"content":"${c}","stop":${i === 3}}\r\n\r\n`).join(''),
);

describe('SSE readers on recorded llama-server streams', () => {
  for (const [name, make] of [
    ['eventsource-parser reader', parsedReader],
    ['raw-byte reader', rawReader],
  ] as const) {
    it(`${name}: /completion text equals the non-streamed reply`, () => {
      const r = read(make, [bytes('completion-stream.sse')]);
      assert.equal(r.text, expectedCompletion);
      assert.equal(r.events, 25);
    });

    it(`${name}: the same text and events whatever byte the stream is split at`, function () {
      this.timeout(20_000);
      for (const [file, body] of [
        ['completion-stream.sse', bytes('completion-stream.sse')],
        ['chat-completions-stream.sse', bytes('chat-completions-stream.sse')],
        ['completion-stream-stop-nprobs.sse', bytes('completion-stream-stop-nprobs.sse')],
        ['multi-byte text', multiByte],
      ] as const) {
        const whole = read(make, [body]);
        for (let i = 1; i < body.length; i++) {
          const split = read(make, [body.subarray(0, i), body.subarray(i)]);
          if (split.text !== whole.text || split.events !== whole.events) assert.fail(`${file} split at byte ${i}: "${split.text}"`);
        }
        // Every boundary at once.
        assert.deepEqual(read(make, [...body].map((b) => Buffer.from([b]))), whole, `${file} one byte at a time`);
      }
    });

    it(`${name}: characters of several bytes, CRLF line ends`, () => {
      assert.deepEqual(read(make, [multiByte]), { text: '你好。🎉 Ça va? "ok"👨‍👩‍👧', events: 4 });
    });

    it(`${name}: chat deltas (with escaped quotes) and the [DONE] line`, () => {
      const r = read(make, [bytes('chat-completions-stream.sse')]);
      assert.equal(r.events, 27);
      assert.ok(r.text.startsWith('"H'), r.text);
    });
  }

  it('raw-byte reader: hands a token on before its event has ended', () => {
    const early: string[] = [];
    const data: string[] = [];
    const reader = rawReader({ onData: (d) => data.push(d), onEarlyContent: (t) => early.push(t) });
    reader.feed(Buffer.from('data: {"index":0,"content":" Lily","tokens":[365'));
    assert.deepEqual(early, [' Lily'], 'the text left before the rest of the line');
    assert.deepEqual(data, []);
    reader.feed(Buffer.from('],"stop":false}\n\n'));
    assert.equal(data.length, 1);
  });
});
