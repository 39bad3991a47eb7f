import assert from 'node:assert/strict';
import { readWavMono } from '../../lib/audio/wav';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import { hearThroughAsrNode } from '../support/asr-node-run';
import { JUDGE, judge, judgePython } from '../support/judge';
import { TESTDATA } from '../support/paths';
import { transcribedClips } from '../support/transcribed-clips';
import { installedModel } from '../support/real-models';
import { MAKE_TEST_VENV } from '../support/test-venv';

const WHISPER = 'asr-whisper-tiny-en';

/** Word errors over all clips / reference words over all clips. */
function corpusWer(references: string[], heard: string[]): number {
  let errors = 0;
  let words = 0;
  references.forEach((reference, i) => {
    const ref = scoringWords(reference);
    errors += wordErrors(ref, scoringWords(heard[i]));
    words += ref.length;
  });
  return errors / words;
}

describe('quality: Whisper tiny.en (converted, scripts/whisper) through the asr node vs faster-whisper tiny.en (the judge)', function () {
  this.timeout(600_000);
  const model = installedModel(WHISPER);

  it('word error rate on every transcribed clip: <= 12 %, and <= 1.2 x the judge\'s on the same clips', async function () {
    if (!model || !judgePython()) {
      console.log(`      skipped: no model ${!model ? WHISPER : JUDGE} (run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    const clips = transcribedClips();
    assert.ok(clips.length >= 6, `${clips.length} transcribed clips in ${TESTDATA}`);
    const paths = clips.map((c) => c.path);
    const clips16k = await Promise.all(paths.map(async (p) => (await readWavMono(p)).samples));
    const heard = (await hearThroughAsrNode(model!, clips16k)).map((h) => h.text);
    const judged = await judge(paths);
    const references = clips.map((c) => c.reference);
    clips.forEach((c, i) => console.log(`      ${c.file}\n        asr:   "${heard[i]}"\n        judge: "${judged[i]}"`));
    const ours = corpusWer(references, heard);
    const baseline = corpusWer(references, judged);
    const words = references.reduce((n, r) => n + scoringWords(r).length, 0);
    console.log(`      WER over ${words} words: asr node ${(ours * 100).toFixed(1)} %, judge ${(baseline * 100).toFixed(1)} %, ratio ${(ours / baseline).toFixed(2)}`);
    assert.ok(heard.every((t) => t.length > 0), 'every clip was heard');
    assert.ok(ours <= 0.12, `WER ${(ours * 100).toFixed(1)} % > 12 %`);
    assert.ok(ours <= 1.2 * baseline, `WER ${(ours * 100).toFixed(1)} % > 1.2 x the judge's ${(baseline * 100).toFixed(1)} %`);
  });
});
