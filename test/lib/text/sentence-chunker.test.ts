import assert from 'node:assert/strict';
import { SentenceChunker, type ChunkerOptions } from '../../../lib/text/sentence-chunker';

/** Feeds text the way an LLM streams it: a few characters at a time. */
function chunk(text: string, options?: ChunkerOptions, step = 3): string[] {
  const c = new SentenceChunker(options);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += step) out.push(...c.push(text.slice(i, i + step)));
  return [...out, ...c.flush()];
}

const HARD =
  'Dr. Smith met Mrs. Jones at 5 p.m. today. Pi is 3.14, e.g. roughly! Well... maybe not. Hmm… Let me see. ' +
  'She said "stop." Then left. Really?! 你好。今天天气很好！他说：「走吧。」好的？ Great job 🎉! Family 👨‍👩‍👧 here.\n- eggs\n- milk\nDone';

describe('SentenceChunker', () => {
  it('emits each sentence as soon as the next character shows it is complete', () => {
    const c = new SentenceChunker();
    assert.deepEqual(c.push('Hello there. How'), ['Hello there.']);
    assert.deepEqual(c.push(' are you?'), []);
    assert.deepEqual(c.push(' '), ['How are you?']);
    assert.deepEqual(c.flush(), []);
  });

  it('does not cut after abbreviations and initials', () => {
    assert.deepEqual(chunk('Dr. Smith met Mrs. Jones at 5 p.m. today. They talked, e.g. about J. R. R. Tolkien, i.e. books. Fine.'), [
      'Dr. Smith met Mrs. Jones at 5 p.m. today.',
      'They talked, e.g. about J. R. R. Tolkien, i.e. books.',
      'Fine.',
    ]);
  });

  it('keeps decimals, times, versions and addresses whole, and still ends at a number', () => {
    assert.deepEqual(chunk('Pi is 3.14 roughly. Visit example.com now. Node 20.1 works at 10:30! It costs $3. Then stop.'), [
      'Pi is 3.14 roughly.',
      'Visit example.com now.',
      'Node 20.1 works at 10:30!',
      'It costs $3.',
      'Then stop.',
    ]);
    // The decimal point arrives in a token of its own.
    const c = new SentenceChunker();
    assert.deepEqual([...c.push('It is 3'), ...c.push('.'), ...c.push('14 now. ')], ['It is 3.14 now.']);
  });

  it('ends at an ellipsis ("..." or "…") only before a capital letter', () => {
    assert.deepEqual(chunk('Well... maybe not. Hmm… Let me see... OK then. Wait… what?'), ['Well... maybe not.', 'Hmm…', 'Let me see...', 'OK then.', 'Wait… what?']);
  });

  it('keeps closing quotes and brackets with their sentence, and handles ?! runs', () => {
    assert.deepEqual(chunk('She said "stop." Then left (quickly.) Really?! Yes.'), ['She said "stop."', 'Then left (quickly.)', 'Really?!', 'Yes.']);
  });

  it('passes emoji through without breaking them', () => {
    assert.deepEqual(chunk('Great job 🎉! Lights are on 💡. 👍'), ['Great job 🎉!', 'Lights are on 💡.', '👍']);
  });

  it('never cuts inside an emoji, a flag or a joined emoji sequence when a run has no break', () => {
    const family = '👨‍👩‍👧';
    assert.deepEqual(chunk(family.repeat(4), { maxChars: 10 }, 1), [family, family, family, family]);
    assert.deepEqual(chunk('🇫🇷'.repeat(3), { maxChars: 5 }, 1), ['🇫🇷', '🇫🇷', '🇫🇷']);
    for (const piece of chunk('🎉'.repeat(50), { maxChars: 7 }, 1)) assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(piece), JSON.stringify(piece));
  });

  it('splits Chinese and Japanese at 。！？ without spaces, with their closing quotes and stop runs', () => {
    assert.deepEqual(chunk('你好。今天天气很好！你要出去吗？好的', undefined, 2), ['你好。', '今天天气很好！', '你要出去吗？', '好的']);
    assert.deepEqual(chunk('他说：「走吧。」然后走了！？真的。', undefined, 1), ['他说：「走吧。」', '然后走了！？', '真的。']);
    assert.deepEqual(chunk('我有3.5个苹果。はい。そうです！', undefined, 1), ['我有3.5个苹果。', 'はい。', 'そうです！']);
  });

  it('cuts a long Chinese sentence at its comma', () => {
    const out = chunk('今天的天气非常好，我们一起去公园散步吧，然后回家吃饭。', { maxChars: 12 }, 1);
    assert.deepEqual(out, ['今天的天气非常好，', '我们一起去公园散步吧，', '然后回家吃饭。']);
  });

  it('ends a chunk at a line break, so list items are spoken one by one', () => {
    assert.deepEqual(chunk('Here is the list:\n- eggs\n- milk\n\nThat is all.'), ['Here is the list:', '- eggs', '- milk', 'That is all.']);
  });

  it('cuts a long sentence at a clause break, with a smaller limit for the first chunk', () => {
    const text = 'The kitchen lights are on, the heating is set to twenty one degrees, and the front door is locked for the night.';
    const out = chunk(text, { firstMaxChars: 30, maxChars: 60 });
    assert.equal(out[0], 'The kitchen lights are on,');
    assert.ok(out.every((c) => c.length <= 60), JSON.stringify(out));
    assert.equal(out.join(' '), text);
  });

  it('ends the first chunk at its first clause break of at least firstClauseWords words, then goes by sentences', () => {
    const text = 'Sure, the kitchen light is on, and the heating is set to twenty one. Anything else, then?';
    assert.deepEqual(chunk(text, { firstClauseWords: 3 }), ['Sure, the kitchen light is on,', 'and the heating is set to twenty one.', 'Anything else, then?']);
    // Not a clause break: numbers with a comma or colon; a sentence that ends first is cut as a sentence.
    assert.deepEqual(chunk('It is 3:30 and 1,250 people wait, so hurry. Ok.', { firstClauseWords: 3 }), ['It is 3:30 and 1,250 people wait,', 'so hurry.', 'Ok.']);
    assert.deepEqual(chunk('Yes. The light is on, now.', { firstClauseWords: 3 }), ['Yes.', 'The light is on, now.']);
    // Off by default: the same text as one sentence.
    assert.equal(chunk(text)[0], 'Sure, the kitchen light is on, and the heating is set to twenty one.');
  });

  it('decides a clause break at the end of what arrived only when the next character comes', () => {
    const c = new SentenceChunker({ firstClauseWords: 3 });
    assert.deepEqual(c.push('The light is on,'), []);
    assert.deepEqual(c.push(' and'), ['The light is on,']);
  });

  it('falls back to the last space when a long clause has no break', () => {
    const out = chunk('a'.repeat(10) + ' ' + 'b'.repeat(10) + ' ' + 'c'.repeat(10), { maxChars: 15 });
    assert.deepEqual(out, ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc']);
  });

  it('gives the same chunks however the stream is cut into tokens', () => {
    const whole = chunk(HARD, undefined, HARD.length);
    assert.equal(whole.length, 17, JSON.stringify(whole));
    assert.equal(whole.join('').replace(/\s/g, ''), HARD.replace(/\s/g, ''), 'no text lost or added');
    for (const step of [1, 2, 5]) assert.deepEqual(chunk(HARD, undefined, step), whole, `${step} characters at a time`);
    for (let i = 1; i < HARD.length; i++) {
      const c = new SentenceChunker();
      const split = [...c.push(HARD.slice(0, i)), ...c.push(HARD.slice(i)), ...c.flush()];
      if (JSON.stringify(split) !== JSON.stringify(whole)) assert.fail(`split at ${i}: ${JSON.stringify(split)}`);
    }
  });

  it('forgets an interrupted turn on reset', () => {
    const c = new SentenceChunker();
    c.push('Half a sent');
    c.reset();
    assert.deepEqual(c.push('New. '), ['New.']);
  });
});
