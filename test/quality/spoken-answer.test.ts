import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { resample } from '../../lib/audio/resample';
import { parseWav } from '../../lib/audio/wav';
import type { ControlPayload } from '../../lib/control/protocol';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import asr from '../../nodes/asr/asr';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import micIn from '../../nodes/mic-in/mic-in';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import voiceprint from '../../nodes/voiceprint/voiceprint';
import { JUDGE, judge, judgePython } from '../support/judge';
import { collect } from '../support/node-red';
import { TESTDATA } from '../support/paths';
import { CHAT_MODELS, EN_US_VOICES, firstInstalled } from '../support/real-models';
import { shippedFlow } from '../support/shipped-flow';
import { MAKE_TEST_VENV } from '../support/test-venv';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { transcribe } from '../support/transcribe';
import { until } from '../support/wait';

helper.init(require.resolve('node-red'));

type Control = { control: ControlPayload };
type Reply = { payload: string; turnId: string };

const RECOGNISERS = ['asr-zipformer-en-20m', 'asr-moonshine-tiny-en', 'asr-whisper-tiny-en', 'asr-nemo-streaming-ctc-en-80ms'];

function wer(reference: string, heard: string): number {
  const ref = scoringWords(reference);
  assert.ok(ref.length > 0, `the reply has words: "${reference}"`);
  return wordErrors(ref, scoringWords(heard)) / ref.length;
}

describe('quality: the spoken answer of the shipped flow, transcribed back (real models)', function () {
  this.timeout(600_000);
  const voice = firstInstalled(EN_US_VOICES);
  const chat = firstInstalled(CHAT_MODELS);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rv-spoken-'));
  });
  afterEach(async () => {
    await helper.unload();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The shipped flow with the real voice and chat model, the microphone on a WAV file and the
   * speaker into spoken.wav; runs until the reply has been spoken to its end and the flow is
   * closed (which completes the WAV file's header). With `ask`, the question is typed (sent to
   * llama-llm) and the microphone stays closed; without, it is spoken from an ARCTIC clip.
   */
  async function answer(asrDir: string, ask?: (llamaId: string) => void): Promise<{ reply: string; question: string; spoken: { samples: Float32Array; sampleRate: number }; path: string }> {
    const path = join(dir, 'spoken.wav');
    const models = { asrDir, voice: join(voice!.dir, 'voice.onnx'), speakerModel: writeTinySpeakerModel(dir) };
    const { flow, byType } = shippedFlow(models, join(TESTDATA, 'arctic_aew_a0001.wav'), path);
    Object.assign(byType('llama-llm'), { modelPath: join(chat!.dir, 'model.gguf'), threads: 0, contextSize: 2048, maxTokens: 60 });
    if (ask) Object.assign(byType('mic-in'), { autoStart: false });
    await helper.load([micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard], flow as never);
    const speakerControl = collect<Control>('tap-speaker-control');
    // (asr's transcripts go to llama-llm, as its control events do.)
    const question = collect<{ topic?: string; payload: string; partial?: boolean }>(byType('asr').wires?.[0][0] as string);
    const replies = collect<Reply>(byType('llama-llm').wires?.[2][0] as string);
    ask?.(byType('llama-llm').id);
    await until(() => speakerControl.some((c) => c.control.type === 'tts-end'), 480_000, 'the spoken reply to end');
    const end = speakerControl.find((c) => c.control.type === 'tts-end')?.control as ControlPayload;
    assert.equal(end.cut, false, 'the reply was spoken to its end');
    assert.ok(replies.length >= 1, 'llama-llm replied');
    assert.equal(replies[0].turnId, end.turnId);
    await helper.unload();
    return {
      reply: replies[0].payload,
      question: question.find((q) => q.topic === 'transcript' && !q.partial)?.payload ?? '',
      spoken: parseWav(readFileSync(path)),
      path,
    };
  }

  it('a typed question is answered aloud, and the judge hears the reply text in the answer (WER <= 15 %)', async function () {
    if (!voice || !chat || !judgePython()) {
      const missing = [!voice && 'voice', !chat && 'chat model', !judgePython() && JUDGE].filter(Boolean).join(', ');
      console.log(`      skipped: no model (needs a Piper en_US voice (${EN_US_VOICES.join(' or ')}), a chat model (${CHAT_MODELS.join(' or ')}) and ${JUDGE}; missing: ${missing}; run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    const asked = 'What can you tell me about the moon?';
    // Nobody speaks, so the recogniser is the tiny stand-in.
    const got = await answer(writeTinyAsrModel(dir), (llamaId) => helper.getNode(llamaId).receive({ payload: asked, turnId: 't-typed' } as never));
    const [heard] = await judge([got.path]);
    const rate = wer(got.reply, heard);
    console.log(`      ${voice.name}, ${chat.name}, judge`);
    console.log(`      asked "${asked}"; replied "${got.reply}"; heard "${heard}" (WER ${(rate * 100).toFixed(0)} %)`);
    assert.ok(rate <= 0.15, `WER ${(rate * 100).toFixed(0)} % between the reply and what the judge heard in the spoken answer`);
  });

  it('a question spoken into the microphone is answered aloud, and the recogniser hears the reply text in the answer (WER <= 25 %)', async function () {
    const recogniser = firstInstalled(RECOGNISERS);
    // A real chat model too: the tiny test GGUF makes up words no recogniser could spell back.
    if (!recogniser || !voice || !chat) {
      const missing = [!recogniser && 'recogniser', !voice && 'voice', !chat && 'chat model'].filter(Boolean).join(', ');
      console.log(`      skipped: no model (needs an English recogniser (${RECOGNISERS.join(' or ')}), a Piper en_US voice and a chat model (${CHAT_MODELS.join(' or ')}) in $VOICE_MODELS_DIR; missing: ${missing})`);
      this.skip();
    }
    const got = await answer(recogniser.dir);
    const { samples, sampleRate } = got.spoken;
    const heard = await transcribe(recogniser.dir, sampleRate === 16000 ? samples : resample(samples, sampleRate, 16000));
    const rate = wer(got.reply, heard);
    console.log(`      ${recogniser.name}, ${voice.name}, ${chat.name}`);
    console.log(`      asked "${got.question}"; replied "${got.reply}"; heard "${heard}" (WER ${(rate * 100).toFixed(0)} %)`);
    assert.ok(rate <= 0.25, `WER ${(rate * 100).toFixed(0)} % between the reply and what the recogniser heard in the spoken answer`);
  });
});
