import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { resample } from '../../lib/audio/resample';
import { parseWav } from '../../lib/audio/wav';
import type { ControlPayload } from '../../lib/messages/control';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import asr from '../../nodes/asr/asr';
import type { ChatMessage } from '../../lib/llm/engine';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import micIn from '../../nodes/mic-in/mic-in';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import voiceprint from '../../nodes/voiceprint/voiceprint';
import { JUDGE, judge, judgePython } from '../support/judge';
import { llamaServerBin, LlamaServerProcess } from '../support/llama-server-process';
import { recordPrompts } from '../support/llm-prompts';
import { collect } from '../support/node-red';
import { TESTDATA } from '../support/paths';
import { CHAT_MODELS, EN_US_VOICES, firstInstalled } from '../support/real-models';
import { shippedFlow } from '../support/shipped-flow';
import { MAKE_TEST_VENV } from '../support/test-venv';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { transcribe } from '../support/transcribe';
import { sleep, until } from '../support/wait';

helper.init(require.resolve('node-red'));

type Control = { control: ControlPayload };

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

  /** A chunk or the full reply from llama-llm, with when it arrived (performance.now()). */
  type Timed = { payload: string; index?: number; turnId: string; at: number };
  function collectTimed(id: string): Timed[] {
    const got: Timed[] = [];
    (helper.getNode(id) as unknown as EventEmitter).on('input', (m: Omit<Timed, 'at'>) => got.push({ ...m, at: performance.now() }));
    return got;
  }

  /**
   * The shipped flow with the real voice and chat model, the microphone on a WAV file and the
   * speaker into spoken.wav; runs until the reply has been spoken to its end (or cut) and the
   * flow is closed (which completes the WAV file's header). With `ask`, the question is typed
   * (sent to llama-llm) and the microphone stays closed; without, it is spoken from an ARCTIC
   * clip. With `bargeIn` too, the microphone plays that clip over the typed question's reply a
   * second after it starts, and the run goes on until llama-llm prompts for the user's turn.
   * With `url`, llama-llm talks to that llama-server instead of its embedded engine.
   */
  async function answer(
    asrDir: string,
    { ask, bargeIn = false, url = '' }: { ask?: string; bargeIn?: boolean; url?: string } = {},
  ): Promise<{ reply?: Timed; chunks: Timed[]; question: string; end: ControlPayload; prompts: ChatMessage[][]; spoken: { samples: Float32Array; sampleRate: number }; path: string }> {
    const path = join(dir, 'spoken.wav');
    const models = { asrDir, voice: join(voice!.dir, 'voice.onnx'), speakerModel: writeTinySpeakerModel(dir) };
    const { flow, byType, tap } = shippedFlow(models, join(TESTDATA, 'arctic_aew_a0001.wav'), path);
    // A longer reply to talk over for a barge-in.
    Object.assign(byType('llama-llm'), { modelPath: join(chat!.dir, 'model.gguf'), url, threads: 0, contextSize: 2048, maxTokens: bargeIn ? 120 : 60 });
    if (ask) Object.assign(byType('mic-in'), { autoStart: false });
    const chunkTap = tap('llama-llm', 0);
    const recorded = recordPrompts();
    try {
      await helper.load([micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard], flow as never);
      const speakerControl = collect<Control>('tap-speaker-control');
      // (asr's transcripts go to llama-llm, as its control events do.)
      const question = collect<{ topic?: string; payload: string; partial?: boolean; turnId: string }>(byType('asr').wires?.[0][0] as string);
      const replies = collectTimed(byType('llama-llm').wires?.[1][0] as string);
      const chunks = collectTimed(chunkTap);
      const typed = 't-typed';
      if (ask) helper.getNode(byType('llama-llm').id).receive({ payload: ask, turnId: typed } as never);
      const ended = () => speakerControl.find((c) => c.control.type === 'tts-end')?.control;
      if (bargeIn) {
        await until(() => speakerControl.some((c) => c.control.type === 'tts-start' && c.control.turnId === typed), 300_000, 'the reply to be spoken');
        await sleep(1000);
        assert.equal(ended(), undefined, 'the reply is still being spoken when the user talks');
        helper.getNode(byType('mic-in').id).receive({ payload: 'start' } as never);
      }
      await until(() => ended() !== undefined, 480_000, bargeIn ? 'the barge-in to cut the reply' : 'the spoken reply to end');
      const end = ended() as ControlPayload;
      // The prompt of the user's turn (after the barge-in) shows the history as llama-llm kept it.
      if (bargeIn) await until(() => recorded.prompts.some((p) => p.some((m) => m.role === 'assistant')), 300_000, "llama-llm's prompt for the user's turn");
      // (A cut turn has no full reply: llama-llm stopped it.)
      const reply = replies.find((r) => r.turnId === end.turnId);
      if (!bargeIn) assert.ok(reply, `llama-llm replied to turn ${end.turnId}`);
      await helper.unload();
      return {
        reply,
        chunks: chunks.filter((c) => c.turnId === end.turnId),
        question: question.find((q) => q.topic === 'transcript' && !q.partial)?.payload ?? '',
        end,
        prompts: recorded.prompts,
        spoken: parseWav(readFileSync(path)),
        path,
      };
    } finally {
      recorded.restore();
    }
  }

  /**
   * The reply was streamed: its first chunk (index 0) reached piper-tts before the whole reply
   * was there, and it is the reply's first clause or sentence, not all of it.
   */
  function assertStreamed(reply: Timed, chunks: Timed[]): void {
    const first = chunks[0];
    assert.ok(first && first.index === 0, 'the first llm-chunk has index 0');
    console.log(`      first chunk "${first.payload}" ${(reply.at - first.at).toFixed(0)} ms before the full reply, ${chunks.length} chunks`);
    assert.ok(first.at < reply.at, 'the first chunk reached piper-tts before the reply was complete');
    assert.ok(chunks.length >= 2, `the reply came in more than one chunk: ${JSON.stringify(chunks.map((c) => c.payload))}`);
    const words = scoringWords(first.payload);
    assert.ok(words.length > 0 && words.length < scoringWords(reply.payload).length, `the first chunk "${first.payload}" is part of the reply, not all of it`);
    assert.deepEqual(scoringWords(reply.payload).slice(0, words.length), words, `the first chunk "${first.payload}" is where the reply "${reply.payload}" starts`);
  }

  function skipUnlessModels(test: Mocha.Context): void {
    if (voice && chat && judgePython()) return;
    const missing = [!voice && 'voice', !chat && 'chat model', !judgePython() && JUDGE].filter(Boolean).join(', ');
    console.log(`      skipped: no model (needs a Piper en_US voice (${EN_US_VOICES.join(' or ')}), a chat model (${CHAT_MODELS.join(' or ')}) and ${JUDGE}; missing: ${missing}; run: ${MAKE_TEST_VENV})`);
    test.skip();
  }

  const ASKED = 'What can you tell me about the moon?';

  /** A typed question answered aloud: streamed to piper-tts, spoken to its end, heard by the judge. */
  async function typedQuestion(url = ''): Promise<void> {
    // Nobody speaks, so the recogniser is the tiny stand-in.
    const got = await answer(writeTinyAsrModel(dir), { ask: ASKED, url });
    assert.equal(got.end.cut, false, 'the reply was spoken to its end');
    const reply = got.reply!;
    assertStreamed(reply, got.chunks);
    const [heard] = await judge([got.path]);
    const rate = wer(reply.payload, heard);
    console.log(`      ${voice!.name}, ${chat!.name}${url ? ' on llama-server' : ''}, judge`);
    console.log(`      asked "${ASKED}"; replied "${reply.payload}"; heard "${heard}" (WER ${(rate * 100).toFixed(0)} %)`);
    assert.ok(rate <= 0.15, `WER ${(rate * 100).toFixed(0)} % between the reply and what the judge heard in the spoken answer`);
  }

  it('a typed question is answered aloud, its first clause streamed to piper-tts ahead of the rest, and the judge hears the reply text in the answer (WER <= 15 %)', async function () {
    skipUnlessModels(this);
    await typedQuestion();
  });

  it('the same through a llama-server serving the chat model', async function () {
    skipUnlessModels(this);
    const bin = llamaServerBin();
    if (!bin) {
      console.log('      skipped: no llama-server ($LLAMA_SERVER_BIN unset or missing, none on the PATH)');
      this.skip();
    }
    const server = await new LlamaServerProcess(bin, ['-m', join(chat!.dir, 'model.gguf'), '-c', '2048', '-np', '1']).start();
    try {
      await typedQuestion(server.base);
    } finally {
      await server.stop();
    }
  });

  it('the user speaking over the reply cuts it, and the history keeps only what was heard', async function () {
    skipUnlessModels(this);
    // The tiny recogniser hears the clip as "s…": a transcript, so the user's turn is prompted.
    const got = await answer(writeTinyAsrModel(dir), { ask: ASKED, bargeIn: true });
    assert.equal(got.end.turnId, 't-typed');
    assert.equal(got.end.cut, true, 'the reply was cut, not finished');
    const spoken = got.end.spokenText ?? '';
    const said = got.chunks.map((c) => c.payload).join(' ');
    console.log(`      heard "${spoken}" (${got.end.playedMs} ms) of "${said}"`);
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    assert.ok(words(spoken).length > 0, 'some of the reply was heard');
    assert.ok(words(spoken).length < words(said).length, `only part of the reply was heard: "${spoken}" of "${said}"`);
    assert.deepEqual(words(spoken), words(said).slice(0, words(spoken).length), 'what was heard is the start of the reply');
    // The prompt of the user's turn: the typed question, the reply as far as it was heard, what the user said.
    const prompt = got.prompts.find((p) => p.some((m) => m.role === 'assistant'))!;
    const history = prompt.filter((m) => m.role !== 'system');
    assert.deepEqual(history.slice(0, 2), [
      { role: 'user', content: ASKED },
      { role: 'assistant', content: spoken },
    ]);
    assert.equal(history.length, 3, `the history: ${JSON.stringify(history)}`);
    assert.equal(history[2].role, 'user');
    assert.equal(history[2].content, got.question.trim(), "the user's turn asks what the recogniser heard");
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
    assert.equal(got.end.cut, false, 'the reply was spoken to its end');
    assert.ok(got.reply, 'llama-llm replied');
    const { samples, sampleRate } = got.spoken;
    const heard = await transcribe(recogniser.dir, sampleRate === 16000 ? samples : resample(samples, sampleRate, 16000));
    const rate = wer(got.reply.payload, heard);
    console.log(`      ${recogniser.name}, ${voice.name}, ${chat.name}`);
    console.log(`      asked "${got.question}"; replied "${got.reply.payload}"; heard "${heard}" (WER ${(rate * 100).toFixed(0)} %)`);
    assert.ok(rate <= 0.25, `WER ${(rate * 100).toFixed(0)} % between the reply and what the recogniser heard in the spoken answer`);
  });
});
