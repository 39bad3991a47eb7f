import assert from 'node:assert/strict';
import { parsedReader, rawReader, type SseReader, type SseSink } from '../../../nodes/llama-llm/sse-lines';
import { fixture } from '../../support/llama-replay';

/** The text of a recorded stream, as the reader hands it on. */
function read(make: (sink: SseSink) => SseReader, pieces: string[]): { text: string; events: number } {
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

const expectedCompletion = JSON.parse(fixture('completion.json')).content as string;

describe('SSE readers on recorded llama-server streams', () => {
  for (const [name, make] of [
    ['eventsource-parser reader', parsedReader],
    ['raw-byte reader', rawReader],
  ] as const) {
    it(`${name}: /completion text equals the non-streamed reply`, () => {
      const r = read(make, [fixture('completion-stream.sse')]);
      assert.equal(r.text, expectedCompletion);
      assert.equal(r.events, 25);
    });

    it(`${name}: the same text whatever byte the stream is split at`, function () {
      this.timeout(120_000);
      for (const file of ['completion-stream.sse', 'chat-completions-stream.sse', 'completion-stream-stop-nprobs.sse']) {
        const body = fixture(file);
        const whole = read(make, [body]);
        for (let i = 1; i < body.length; i++) {
          const split = read(make, [body.slice(0, i), body.slice(i)]);
          if (split.text !== whole.text || split.events !== whole.events) assert.fail(`${file} split at byte ${i}: "${split.text}"`);
        }
      }
    });

    it(`${name}: chat deltas (with escaped quotes) and the [DONE] line`, () => {
      const r = read(make, [fixture('chat-completions-stream.sse')]);
      assert.equal(r.events, 27);
      assert.ok(r.text.startsWith('"H'), r.text);
    });
  }
});
