import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { s16leToFloat32 } from '../../lib/audio/pcm';
import { scoringWords } from '../../lib/text/wer';
import { EmbeddedEngine } from '../../lib/llm/embedded-engine';
import piperTts from '../../nodes/piper-tts/piper-tts';
import { JUDGE, judgeAudio, judgePython } from '../support/judge';
import { collect } from '../support/node-red';
import { GEMMA_LLM, JOE_VOICE, installedModel } from '../support/real-models';
import { MAKE_TEST_VENV } from '../support/test-venv';
import { until } from '../support/wait';

helper.init(require.resolve('node-red'));

// Broken copies of the real models, as users end up with them: clear errors, no crash.
describe('quality: broken copies of the real models', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rv-bad-models-'))));
  afterEach(async () => {
    await helper.unload();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`a ${GEMMA_LLM} download cut off inside its tensors is refused as a bad model file, naming it`, async function () {
    const model = installedModel(GEMMA_LLM);
    if (!model) {
      console.log(`      skipped: no model (${GEMMA_LLM}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    // The metadata (gemma's 262k-token vocabulary) is whole; the weights stop at 60 %.
    const cut = join(dir, 'model.gguf');
    copyFileSync(join(model, 'model.gguf'), cut);
    truncateSync(cut, Math.round(253113024 * 0.6));
    const engine = new EmbeddedEngine({ modelPath: cut, threads: 1, contextSize: 512 });
    try {
      await assert.rejects(engine.start([{ role: 'user', content: 'Hi' }]), { code: 'MODEL_BAD', statusText: 'bad model file', message: new RegExp(`could not load .*${cut.replace(/[.]/g, '\\.')}`) });
    } finally {
      await engine.close();
    }
  });

  it(`${JOE_VOICE} with a phoneme missing from its map: piper-tts warns, skips it and still speaks the sentence`, async function () {
    const voice = installedModel(JOE_VOICE);
    if (!voice || !judgePython()) {
      console.log(`      skipped: no model (${JOE_VOICE} and ${JUDGE}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    const config = JSON.parse(readFileSync(join(voice, 'voice.onnx.json'), 'utf8')) as { phoneme_id_map: Record<string, number[]> };
    assert.ok(config.phoneme_id_map['ð'], 'the voice knows ð');
    delete config.phoneme_id_map['ð'];
    symlinkSync(join(voice, 'voice.onnx'), join(dir, 'voice.onnx'));
    writeFileSync(join(dir, 'voice.onnx.json'), JSON.stringify(config));
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'tts', z: 'f1', type: 'piper-tts', voicePath: join(dir, 'voice.onnx'), wires: [['frames'], [], []] },
      { id: 'frames', z: 'f1', type: 'helper' },
    ];
    await helper.load(piperTts, flow);
    const frames = collect<{ payload: Buffer; audio: { sampleRate: number }; complete?: boolean }>('frames');
    const sentence = 'The weather is sunny this morning, and the birds are singing.';
    helper.getNode('tts').receive({ payload: sentence, turnId: 't-1', index: 0, complete: true } as never);
    await until(() => frames.some((f) => f.complete), 60_000, 'the sentence to be spoken');
    const warn = helper.getNode('tts').warn as unknown as { args: unknown[][] };
    assert.ok(warn.args.some(([m]) => m === 'the voice has no phoneme ð; skipped'), `warned: ${JSON.stringify(warn.args)}`);
    const samples = s16leToFloat32(Buffer.concat(frames.map((f) => f.payload)));
    const [heard] = await judgeAudio([{ samples, sampleRate: frames[0].audio.sampleRate }]);
    console.log(`      without ð: "${heard}"`);
    // Only the words with ð ("the", "weather", "this") lose a sound; the others come through.
    const words = scoringWords(heard);
    for (const intact of ['morning', 'birds', 'are', 'singing']) assert.ok(words.includes(intact), `"${intact}" in "${heard}"`);
  });
});
