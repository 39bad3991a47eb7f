import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { phonemeIds } from '../../../lib/tts/phoneme-ids';
import { phonemize } from '../../../lib/tts/phonemize';
import { SHARED_MODELS } from '../../support/paths';

const map = JSON.parse(readFileSync(join(SHARED_MODELS, 'tts', 'piper-en-us-phoneme-map.onnx.json'), 'utf8')).phoneme_id_map as Record<string, number[]>;

function espeakCli(): boolean {
  try {
    execFileSync('espeak-ng', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reference ids built independently: the espeak-ng command line's IPA for each
 * clause, Piper's punctuation rule (the clause's mark follows its phonemes),
 * and Piper's id rule (BOS, each phoneme then pad, EOS) applied by hand here.
 */
function referenceIds(sentence: string): number[] {
  const clauses = sentence.match(/[^,;:.!?]+[,;:.!?]?/g) ?? [];
  const parts = clauses.map((c) => {
    const mark = /[,;:.!?]$/.test(c) ? c.slice(-1) : '';
    const words = c.replace(/[,;:.!?]$/, '');
    const ipa = execFileSync('espeak-ng', ['-q', '--ipa', '-v', 'en-us', words], { encoding: 'utf8' }).trim().split('\n').map((l) => l.trim()).join(' ');
    return ipa + mark;
  });
  const ids = [1, 0];
  for (const ch of parts.join(' ').normalize('NFD')) ids.push(...map[ch], 0);
  return [...ids, 2];
}

// "The front door is locked" is left out: Debian's espeak-ng 1.51 says dˈoːɹ, the newer espeak-ng we ship says dˈɔːɹ.
const ENGLISH = [
  'Hello world.',
  'How are you today?',
  'Turn on the kitchen lights, please.',
  'The temperature is twenty one degrees.',
  'Good morning, it is seven o\'clock.',
  'Would you like some music?',
  'I have set a timer for ten minutes.',
  'Sorry, I did not understand that.',
];

describe('Piper phonemes and ids', () => {
  it('match ids derived from the espeak-ng command line for English sentences', async function () {
    if (!espeakCli()) {
      console.log('      skipped: espeak-ng command not installed (apt-get install espeak-ng); .ci/run installs it');
      this.skip();
    }
    for (const sentence of ENGLISH) {
      const [ours] = await phonemize(sentence, 'en-us');
      assert.deepEqual(phonemeIds(ours.phonemes, map).ids, referenceIds(sentence), sentence);
    }
  });

  it('keep punctuation and cut sentences the way the official Piper does (espeak-ng\'s clauses)', async () => {
    const s = await phonemize('Hello, world! Dr. Smith has 3.14 apples. Wait... it costs $1,250 at 3:30 p.m.', 'en-us');
    assert.deepEqual(
      s.map((x) => x.phonemes),
      [
        'həlˈoʊ, wˈɜːld!',
        // espeak-ng ends a sentence at a period before a capital, abbreviation or not.
        'dˈɑːktɚ.',
        'smˈɪθ hɐz θɹˈiː pɔɪnt wˈʌn fˈɔːɹ ˈæpəlz.',
        // Piper puts no space after an ellipsis; numbers and times are not cut at their , and :
        // and the glide ʲ of espeak-ng 1.52 is there (as official Piper 1.8.0 gives this text).
        'wˈeɪtɪt kˈɔsts dˈɑːlɚ wˈʌn θˈaʊzənd tˈuːhˈʌndɹɪd fˈɪftiʲ æt θɹˈiː θˈɜːɾi pˌiːʲˈɛm.'.normalize('NFD'),
      ],
    );
    assert.equal(s[2].text, 'Smith has 3.14 apples.');
  });

  it('phonemizes Chinese with the cmn voice, cutting at 。！', async () => {
    const s = await phonemize('你好。今天天气很好！', 'cmn');
    assert.equal(s.length, 2);
    assert.match(s[0].phonemes, /^n.*\.$/);
    assert.ok(s[1].phonemes.endsWith('!'));
    assert.match(s[1].phonemes, /[1-5]/, 'Mandarin tones come as digits');
  });

  it('says nothing for emoji or punctuation only, and skips unknown characters', async () => {
    assert.deepEqual(await phonemize('🎉👍 ... !!', 'en-us'), []);
    const { ids, missing } = phonemeIds('hə☃', map);
    assert.deepEqual(missing, ['☃']);
    assert.deepEqual(ids, [1, 0, ...map.h, 0, ...map['ə'], 0, 2]);
  });

  it('rejects an espeak voice that does not exist', async () => {
    await assert.rejects(phonemize('hello', 'klingon-x'), /no voice "klingon-x"/);
  });
});
