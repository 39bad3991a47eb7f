import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import { JUDGE, judge, judgePython } from '../support/judge';
import { TESTDATA } from '../support/paths';
import { MAKE_TEST_VENV } from '../support/test-venv';

// The judge scores what the package speaks: first, how well it hears real people. tiny.en
// measured 14.6 % here: names ("Philip Steels" → "fill up steels", "Whittemore", "Phil"),
// "Mr." for MISTER (a spelling, counted as an error) and "shop boy" → "shock boy".
describe('quality: the judge (faster-whisper tiny.en) on the transcribed clips', function () {
  this.timeout(120_000);

  it('hears the ARCTIC and LibriSpeech clips (WER <= 20 %)', async function () {
    if (!judgePython()) {
      console.log(`      skipped: no model (${JUDGE}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    const clips = readFileSync(join(TESTDATA, 'trans.txt'), 'utf8')
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([file, , text]) => file.endsWith('.wav') && !text.startsWith('('));
    const heard = await judge(clips.map(([file]) => join(TESTDATA, file)));
    let errors = 0;
    let words = 0;
    clips.forEach(([file, , text], i) => {
      const ref = scoringWords(text);
      errors += wordErrors(ref, scoringWords(heard[i]));
      words += ref.length;
      console.log(`      ${file}: "${heard[i]}"`);
    });
    console.log(`      WER ${((errors / words) * 100).toFixed(1)} % over ${words} words`);
    assert.ok(errors / words <= 0.2, `WER ${((errors / words) * 100).toFixed(1)} %`);
  });

  it('names the file it cannot read', async function () {
    if (!judgePython()) this.skip();
    const dir = mkdtempSync(join(tmpdir(), 'rv-judge-bad-'));
    try {
      const bad = join(dir, 'not-audio.wav');
      writeFileSync(bad, 'this is not a WAV file');
      await assert.rejects(judge([bad]), (err: Error) => err.message.includes(`cannot transcribe ${bad}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what to run when the judge is missing', async function () {
    const saved = process.env.RV_TEST_VENV;
    process.env.RV_TEST_VENV = join(tmpdir(), 'rv-no-such-venv');
    try {
      assert.equal(judgePython(), undefined);
      await assert.rejects(judge([join(TESTDATA, 'arctic_aew_a0001.wav')]), (err: Error) => /is missing: .*rv-no-such-venv; run: bash scripts\/test-models\.sh/.test(err.message));
    } finally {
      if (saved === undefined) delete process.env.RV_TEST_VENV;
      else process.env.RV_TEST_VENV = saved;
    }
  });
});
