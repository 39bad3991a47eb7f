import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { bufferToInt16, float32ToInt16 } from '../../../lib/audio/pcm';
import { readWavMono } from '../../../lib/audio/wav';
import { audioFrame, flushMessage } from '../../../lib/messages';
import { Framer } from '../../../lib/audio/framer';
import asrNode from '../../../nodes/asr/asr';
import llamaLlm from '../../../nodes/llama-llm/llama-llm';
import piperTts from '../../../nodes/piper-tts/piper-tts';
import wyomingIn from '../../../nodes/wyoming-in/wyoming-in';
import wyomingOut from '../../../nodes/wyoming-out/wyoming-out';
import wyomingServer from '../../../nodes/wyoming-server/wyoming-server';
import type { WyomingServerNode } from '../../../nodes/wyoming-server/server-node';
import { collect } from '../../support/node-red';
import { SHARED_MODELS, TESTDATA } from '../../support/paths';
import { installedModel, JOE_VOICE } from '../../support/real-models';
import { scoringWords, wordErrors } from '../../../lib/text/wer';
import { findBetween } from '../../support/signal';
import { writeTinyAsrModel } from '../../support/tiny-asr-model';
import { until } from '../../support/wait';
import { NO_WYOMING, shape, wyoming, wyomingPython } from '../../support/wyoming-client';
import { RawClient } from '../../support/wyoming-socket';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown> & { payload?: unknown; turnId?: string };
type Synthesized = { events: string[]; format: { rate: number; width: number; channels: number }; bytes: number; error: unknown };

const CLIP = 'arctic_axb_a0005'; // 1.57 s: sent one byte at a time, too
const CLIP_TEXT = 'Will we ever forget it.';
/** The real recogniser scripts/test-models.sh installs; else the test's own (test/support/tiny-asr-model.ts). */
const WHISPER = 'asr-whisper-tiny-en';
const TINY_GGUF = join(SHARED_MODELS, 'llm', 'stories260K.gguf');
/** Deterministic synthesis: the same text gives the same samples. */
const DETERMINISTIC = { noiseScale: 0, noiseW: 0 };

/** Node ids that are not also service names ('asr', 'tts'): Node-RED takes a property equal to a node's id for a reference to it. */
function flow(asrModel: string, voicePath: string) {
  const server = { id: 'srv', type: 'wyoming-server', port: 0, host: '127.0.0.1', asr: true, tts: true, handle: true, agentName: 'Test agent', languages: 'en', timeout: 60 };
  return [
    { id: 'f1', type: 'tab' },
    server,
    { id: 'in-asr', z: 'f1', type: 'wyoming-in', server: 'srv', service: 'asr', wires: [['recogniser']] },
    { id: 'in-tts', z: 'f1', type: 'wyoming-in', server: 'srv', service: 'tts', wires: [['voice']] },
    { id: 'in-llm', z: 'f1', type: 'wyoming-in', server: 'srv', service: 'handle', wires: [['agent']] },
    { id: 'recogniser', z: 'f1', type: 'asr', modelDir: asrModel, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), wires: [['out', 'heard'], ['out'], ['out', 'utterances']] },
    { id: 'voice', z: 'f1', type: 'piper-tts', voicePath, ...DETERMINISTIC, wires: [['out', 'spoken'], [], []] },
    { id: 'agent', z: 'f1', type: 'llama-llm', modelPath: TINY_GGUF, threads: 1, contextSize: 256, maxTokens: 16, temperature: 0, wires: [[], ['out', 'replies'], [], []] },
    { id: 'out', z: 'f1', type: 'wyoming-out', server: 'srv' },
    { id: 'heard', z: 'f1', type: 'helper' },
    { id: 'utterances', z: 'f1', type: 'helper' },
    { id: 'spoken', z: 'f1', type: 'helper' },
    { id: 'replies', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** The WAV as the 20 ms frames a microphone would send, then the end of the recording. */
async function frames(path: string): Promise<Msg[]> {
  const { samples, sampleRate } = await readWavMono(path);
  const framer = Framer.forDuration(sampleRate, 20);
  const out: Msg[] = framer.push(float32ToInt16(samples)).map((f) => audioFrame(f, sampleRate));
  const rest = framer.flush();
  if (rest) out.push(audioFrame(rest, sampleRate));
  return [...out, flushMessage(sampleRate)];
}

/** The final transcript the flow's asr gives for the WAV when it is played to it directly. */
async function asrReference(path: string): Promise<string> {
  const heard = collect<Msg>('heard');
  const utterances = collect<Msg>('utterances');
  const asr = helper.getNode('recogniser');
  for (const m of await frames(path)) asr.receive(m as never);
  // asr sends the metrics of an utterance after its transcript; the flush ends the last one (the clip has one).
  await until(() => utterances.length > 0, 60_000, 'the utterance to end');
  return heard.filter((m) => m.partial === false).map((m) => String(m.payload)).join(' ');
}

/** piper-tts's own samples for a text, sent to it directly (not through Wyoming). */
async function ttsReference(text: string): Promise<Int16Array> {
  const spoken = collect<Msg>('spoken');
  helper.getNode('voice').receive({ payload: text, turnId: 't-reference' } as never);
  await until(() => spoken.some((f) => f.complete === true), 30_000, 'the reference synthesis');
  return Int16Array.from(spoken.flatMap((f) => Array.from(bufferToInt16(f.payload as Buffer))));
}

describe('wyoming nodes with the official wyoming client (real Node-RED, asr, piper-tts, llama-llm)', function () {
  this.timeout(180_000);
  const python = wyomingPython();
  const joe = installedModel(JOE_VOICE);
  const dir = mkdtempSync(join(tmpdir(), 'rv-wyoming-'));
  let port = 0;
  let caught: Msg[] = [];
  before(async function () {
    if (!python) {
      console.log(`      ${NO_WYOMING}`);
      return this.skip();
    }
    if (!joe) {
      console.log(`      skipped: no model ${JOE_VOICE}`);
      return this.skip();
    }
    const whisper = installedModel(WHISPER);
    if (!whisper) console.log(`      no model ${WHISPER}: the test's tiny recogniser transcribes`);
    await helper.load([wyomingServer, wyomingIn, wyomingOut, asrNode, piperTts, llamaLlm], flow(whisper ?? writeTinyAsrModel(dir), join(joe, 'voice.onnx')));
    port = await (helper.getNode('srv') as unknown as WyomingServerNode).started;
    caught = collect<Msg>('caught');
  });
  after(async () => {
    await helper.unload();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    // Every client is gone once it has its answer: no socket is left open.
    const server = (helper.getNode('srv') as unknown as WyomingServerNode | null)?.server;
    if (server) await until(() => server.clients === 0, 5000, 'the sockets to close');
  });

  it('describe → info that the library parses into its Info type, listing the installed voice and the agent', async () => {
    const { info } = await wyoming<{ info: { asr: Array<{ models: Array<{ languages: string[] }> }>; tts: Array<{ voices: Array<{ name: string; languages: string[] }>; supports_synthesize_streaming: boolean }>; handle: Array<{ name: string; models: Array<{ name: string }> }> } }>(python!, port, { do: 'describe' });
    assert.equal(info.asr.length, 1);
    assert.ok(info.asr[0].models.length >= 1 && info.asr[0].models.every((m) => m.languages.length > 0), 'every recogniser names its languages');
    const voice = info.tts[0].voices.find((v) => v.name === 'en_US-joe-medium');
    assert.deepEqual(voice?.languages, ['en_US']);
    assert.equal(info.tts[0].supports_synthesize_streaming, true);
    assert.equal(info.handle[0].name, 'Test agent');
  });

  it(`transcribe: ${CLIP}.wav sent in chunks of 1 byte, 0.1 s and 1 s, by three clients at once, comes back as the asr node's transcript`, async () => {
    const wav = join(TESTDATA, `${CLIP}.wav`);
    const reference = await asrReference(wav);
    console.log(`      the asr node (${installedModel(WHISPER) ? WHISPER : 'tiny test recogniser'}) hears "${reference}"`);
    if (installedModel(WHISPER)) {
      const words = scoringWords(CLIP_TEXT);
      assert.ok(wordErrors(words, scoringWords(reference)) <= 1, `"${reference}" for "${CLIP_TEXT}"`);
    } else {
      // The tiny recogniser writes "s" for each loud frame.
      assert.match(reference, /^s+( s+)*$/, `the asr node hears the clip: "${reference}"`);
    }
    const results = await Promise.all([1, 3200, 32000].map((chunk) => wyoming<{ text: string; events: string[] }>(python!, port, { do: 'transcribe', wav, chunk, language: 'en' })));
    for (const [i, r] of results.entries()) {
      assert.deepEqual(r.events, ['transcript'], `chunk ${[1, 3200, 32000][i]}`);
      // After other audio the VAD's state has moved on and cuts the utterance a few ms apart: Whisper may then
      // hear a word differently ("will be ever" for "will we ever"), as it may the clip alone; the tiny recogniser may not.
      if (installedModel(WHISPER)) assert.ok(wordErrors(scoringWords(CLIP_TEXT), scoringWords(r.text)) <= 1, `chunk ${[1, 3200, 32000][i]} bytes: "${r.text}" for "${CLIP_TEXT}"`);
      else assert.deepEqual(scoringWords(r.text), scoringWords(reference), `chunk ${[1, 3200, 32000][i]} bytes: "${r.text}"`);
    }
  });

  for (const [kind, command, text] of [
    ['plain', { do: 'synthesize', text: 'Hello there, I am Joe. How are you today?' }, 'Hello there, I am Joe. How are you today?'],
    ['streaming', { do: 'stream', chunks: ['Hello there, ', 'I am Joe. How ', 'are you', ' today?'] }, 'Hello there, I am Joe. How are you today?'],
  ] as const) {
    it(`synthesize (${kind}): audio like piper-tts's own for the same text (correlation >= 0.99)`, async () => {
      const reference = await ttsReference(text);
      const pcmPath = join(dir, `${kind}.pcm`);
      const got = await wyoming<Synthesized>(python!, port, { ...command, pcm: pcmPath });
      const expected = kind === 'plain' ? ['audio-start', 'audio-chunk', 'audio-stop'] : ['audio-start', 'audio-chunk', 'audio-stop', 'audio-start', 'audio-chunk', 'audio-stop', 'synthesize-stopped'];
      assert.deepEqual(shape(got.events), expected);
      assert.deepEqual(got.format, { rate: 22050, width: 2, channels: 1 });
      const audio = bufferToInt16(readFileSync(pcmPath));
      const { correlation, lag } = findBetween(audio, reference, 0, 400);
      console.log(`      ${kind}: ${audio.length} samples, piper-tts ${reference.length}; correlation ${correlation.toFixed(4)} at lag ${lag}`);
      assert.ok(correlation >= 0.99, `correlation ${correlation.toFixed(4)}`);
      assert.ok(Math.abs(audio.length - reference.length) <= 0.01 * reference.length, 'the same length within 1 %');
    });
  }

  it('a transcript for the conversation agent: handled, with the LLM answer (stories260K)', async () => {
    const replies = collect<Msg>('replies');
    const got = await wyoming<{ events: string[]; text: string; context: Record<string, unknown> }>(python!, port, { do: 'handle', text: 'Once upon a time', context: { conversation_id: 'kitchen' } });
    assert.deepEqual(got.events, ['handled']);
    assert.equal(replies.length, 1);
    assert.equal(got.text, replies[0].payload);
    assert.ok(got.text.trim().length > 0, 'the model answered something');
    assert.equal(replies[0].conversationId, 'kitchen', "Home Assistant's conversation is the LLM's");
    assert.equal(got.context.conversation_id, 'kitchen');
  });

  it('several clients at once, speaking and asking: each gets the audio of its own text and the answer to its own question', async () => {
    const texts = ['Good morning.', 'The garage door is closed now.'];
    const references = [];
    for (const text of texts) references.push(await ttsReference(text));
    const replies = collect<Msg>('replies');
    const questions = ['Once upon a time', 'The little dog', 'In the forest'];
    const [spoken, answered] = await Promise.all([
      Promise.all([0, 1, 0, 1].map((k, i) => wyoming<Synthesized>(python!, port, { do: 'synthesize', text: texts[k], pcm: join(dir, `many-${i}.pcm`) }))),
      Promise.all(questions.map((text, i) => wyoming<{ text: string; context: { conversation_id: string } }>(python!, port, { do: 'handle', text, context: { conversation_id: `room-${i}` } }))),
    ]);
    for (const [i, k] of [0, 1, 0, 1].entries()) {
      assert.equal(spoken[i].error, null);
      const { correlation } = findBetween(bufferToInt16(readFileSync(join(dir, `many-${i}.pcm`))), references[k], 0, 400);
      assert.ok(correlation >= 0.99, `client ${i} ("${texts[k]}"): correlation ${correlation.toFixed(4)}`);
    }
    // Each client's conversation is its own: the LLM's reply in it is the answer that client got.
    for (const [i, q] of questions.entries()) {
      const reply = replies.find((r) => r.conversationId === `room-${i}`);
      assert.equal(answered[i].text, reply?.payload, `client ${i} ("${q}")`);
      assert.equal(answered[i].context.conversation_id, `room-${i}`);
    }
    assert.equal(replies.length, questions.length, 'one reply per question: none superseded another');
  });

  it('bad clients (a header that is not JSON, a disconnect mid-utterance) do not stop the flow: the next client gets its answers', async () => {
    const wav = join(TESTDATA, `${CLIP}.wav`);
    const garbage = await RawClient.open(port);
    garbage.write('not a header\n');
    assert.equal((await garbage.next('error'))?.data.code, 'bad-header');
    await garbage.whenClosed();
    const { samples } = await readWavMono(wav);
    const gone = await RawClient.open(port);
    gone.send('transcribe');
    gone.send('audio-start', { rate: 16000, width: 2, channels: 1 });
    gone.send('audio-chunk', { rate: 16000, width: 2, channels: 1 }, Buffer.from(float32ToInt16(samples.subarray(0, 16000)).buffer)); // mid-word
    await new Promise((r) => setTimeout(r, 300));
    gone.close();
    const next = await wyoming<{ text: string }>(python!, port, { do: 'transcribe', wav, chunk: 3200 });
    assert.deepEqual(scoringWords(next.text), scoringWords(await asrReference(wav)));
    const spoken = await wyoming<Synthesized>(python!, port, { do: 'synthesize', text: 'Still here.' });
    assert.ok(spoken.bytes > 0 && spoken.error === null);
  });

  it('no node reported an error along the way (Catch)', () => {
    assert.deepEqual(caught.map((m) => (m.error as { message: string }).message), []);
  });
});
