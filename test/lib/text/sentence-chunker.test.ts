import assert from 'node:assert/strict';
import { SentenceChunker, type ChunkerOptions } from '../../../lib/text/sentence-chunker';

/** Feeds text the way an LLM streams it: a few characters at a time. */
function chunk(text: string, options?: ChunkerOptions, step = 3): string[] {
  const c = new SentenceChunker(options);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += step) out.push(...c.push(text.slice(i, i + step)));
  return [...out, ...c.flush()];
}

describe('SentenceChunker', () => {
  it('emits each sentence as soon as the next character shows it is complete', () => {
    const c = new SentenceChunker();
    assert.deepEqual(c.push('Hello there. How'), ['Hello there.']);
    assert.deepEqual(c.push(' are you?'), []);
    assert.deepEqual(c.push(' '), ['How are you?']);
    assert.deepEqual(c.flush(), []);
  });

  it('does not cut after abbreviations and initials', () => {
    assert.deepEqual(chunk('Dr. Smith met Mrs. Jones at 5 p.m. today. They talked, e.g. about J. R. R. Tolkien. Fine.'), [
      'Dr. Smith met Mrs. Jones at 5 p.m. today.',
      'They talked, e.g. about J. R. R. Tolkien.',
      'Fine.',
    ]);
  });

  it('keeps decimals, versions and addresses whole', () => {
    assert.deepEqual(chunk('Pi is 3.14 roughly. Visit example.com now. Node 20.1 works!'), ['Pi is 3.14 roughly.', 'Visit example.com now.', 'Node 20.1 works!']);
  });

  it('ends at an ellipsis only before a capital letter', () => {
    assert.deepEqual(chunk('Well... maybe not. Hmm… Let me see... OK then.'), ['Well... maybe not.', 'Hmm… Let me see...', 'OK then.']);
  });

  it('keeps closing quotes and brackets with their sentence, and handles ?! runs', () => {
    assert.deepEqual(chunk('She said "stop." Then left (quickly.) Really?! Yes.'), ['She said "stop."', 'Then left (quickly.)', 'Really?!', 'Yes.']);
  });

  it('passes emoji through without breaking them', () => {
    assert.deepEqual(chunk('Great job 🎉! Lights are on 💡. 👍'), ['Great job 🎉!', 'Lights are on 💡.', '👍']);
  });

  it('splits Chinese at 。！？ without spaces', () => {
    assert.deepEqual(chunk('你好。今天天气很好！你要出去吗？好的', undefined, 2), ['你好。', '今天天气很好！', '你要出去吗？', '好的']);
  });

  it('cuts a long sentence at a clause break, with a smaller limit for the first chunk', () => {
    const text = 'The kitchen lights are on, the heating is set to twenty one degrees, and the front door is locked for the night.';
    const out = chunk(text, { firstMaxChars: 30, maxChars: 60 });
    assert.equal(out[0], 'The kitchen lights are on,');
    assert.ok(out.every((c) => c.length <= 60), JSON.stringify(out));
    assert.equal(out.join(' '), text);
  });

  it('falls back to the last space when a long clause has no break', () => {
    const out = chunk('a'.repeat(10) + ' ' + 'b'.repeat(10) + ' ' + 'c'.repeat(10), { maxChars: 15 });
    assert.deepEqual(out, ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc']);
  });

  it('forgets an interrupted turn on reset', () => {
    const c = new SentenceChunker();
    c.push('Half a sent');
    c.reset();
    assert.deepEqual(c.push('New. '), ['New.']);
  });
});
