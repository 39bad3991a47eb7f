import assert from 'node:assert/strict';
import { scoringWords, wordErrors } from '../../../lib/text/wer';

describe('word error counting', () => {
  it('normalises case and punctuation', () => {
    assert.deepEqual(scoringWords("Lord, but I'm glad to see you again, Phil."), ['lord', 'but', "i'm", 'glad', 'to', 'see', 'you', 'again', 'phil']);
  });

  it('counts substitutions, insertions and deletions', () => {
    assert.equal(wordErrors(['a', 'b', 'c'], ['a', 'b', 'c']), 0);
    assert.equal(wordErrors(['a', 'b', 'c'], ['a', 'x', 'c']), 1);
    assert.equal(wordErrors(['a', 'b', 'c'], ['a', 'c']), 1);
    assert.equal(wordErrors(['a', 'b'], ['a', 'b', 'c', 'd']), 2);
    assert.equal(wordErrors([], ['x']), 1);
  });
});
