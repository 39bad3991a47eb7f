import assert from 'node:assert/strict';
import { splitClauses } from '../../../lib/tts/clauses';

/**
 * espeak-ng's clause cuts as the official Piper 1.8.0 reports them
 * (espeakbridge.get_phonemes: terminator, end of sentence) for each text;
 * each row was read from Piper itself (clauses without phonemes left out: Piper
 * drops them too). "" = no terminator, "|" = end of sentence.
 */
const PIPER_CUTS: [string, string[]][] = [
  ['hi , there', [',', '|']],
  ['a – b', [';', '|']],
  ['It costs $1,250 — or about €1,100.', [';', '.|']],
  ['Mix, 3.5, 7,000 and 8:15', [',', ',', '|']],
  ['x!y z', ['|']],
  ['a—b c', ['|']],
  ['Yes -- no', ['|']],
  ['Hello?! Yes', ['?|', '|']],
  ['No!!! Yes', ['!|', '|']],
  ['Really?. Yes', ['?|', '|']],
  ['e.g. this', ['|']],
  ['It is 5. then', ['|']],
  ['It is 5. 6 next', ['.|', '|']],
  ['The U.S. Army', ['.|', '|']],
  ['Mr. and Mrs. Jones', ['.|', '|']],
  ['She said (quietly). Next one', ['.|', '|']],
  ['Fine." Next', ['.|', '|']],
  ['"I\'m not sure," he said, "but I\'ll try."', [',', ',', '.|']],
  ['wait...are', ['', '|']],
  ['so… fine', ['', '|']],
  ['. . . hi', ['|']],
  ['end,', [',']],
  ['okay…', ['']],
  ['Note: the office', [':', '|']],
  ['Hello\nthere', ['|']],
  ['Hello\n\nWorld', ['|', '|']],
];

describe('espeak-ng clauses (as the official Piper cuts text)', () => {
  for (const [text, cuts] of PIPER_CUTS) {
    it(JSON.stringify(text), () => {
      assert.deepEqual(
        splitClauses(text).map((c) => c.terminator + (c.endOfSentence ? '|' : '')),
        cuts,
      );
    });
  }

  it('keeps each clause\'s text with its closing mark, for espeak-ng to read in context', () => {
    assert.deepEqual(
      splitClauses('"I\'m not sure," he said. Dr. Smith').map((c) => c.text),
      ['"I\'m not sure,"', 'he said.', 'Dr.', 'Smith'],
    );
  });

  it('cuts CJK text at full-width marks, which need no space', () => {
    assert.deepEqual(
      splitClauses('你好，世界。今天很好！').map((c) => [c.text, c.terminator, c.endOfSentence]),
      [['你好，', ',', false], ['世界。', '.', true], ['今天很好！', '!', true]],
    );
  });
});
