import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AsrEvent } from '../../../lib/asr/asr-engine';
import { detectRecognizer } from '../../../lib/asr/recognizers';
import { readWavMono } from '../../../lib/audio/wav';
import { EngineHost } from '../../../lib/engine/host';
import { TESTDATA } from '../../support/paths';
import { writeTinyAsrModel, writeTinyStreamingAsrModel } from '../../support/tiny-asr-model';
import { TEST_VAD } from '../../support/vad';

const ENGINE = require.resolve('../../../lib/asr/asr-engine');
const vad = TEST_VAD;

async function feed(host: EngineHost, clip: string): Promise<AsrEvent[]> {
  const { samples } = await readWavMono(join(TESTDATA, `${clip}.wav`));
  const audio = new Float32Array(16000 + samples.length + 16000);
  audio.set(samples, 16000);
  const events: AsrEvent[] = [];
  for (let i = 0; i < audio.length; i += 320) events.push(...(await host.call<AsrEvent[]>('audio', audio.slice(i, i + 320))));
  return [...events, ...(await host.call<AsrEvent[]>('flush', new Float32Array(0)))];
}

describe('ASR engine in a worker (real Silero VAD, tiny sherpa-onnx recogniser)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-asr-'));
  let host: EngineHost;
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => host?.close());

  it('loads the model through sherpa-onnx and decodes each utterance the VAD cuts', async () => {
    host = new EngineHost({ modulePath: ENGINE, name: 'asr', options: { vad, modelDir: writeTinyAsrModel(dir) } });
    assert.deepEqual(await host.start(), { kind: 'nemo-ctc', streaming: false });
    const events = await feed(host, 'arctic_axb_a0004');
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end', 'final'],
    );
    const final = events[2] as Extract<AsrEvent, { type: 'final' }>;
    assert.match(final.text, /^s+$/, 'the tiny model writes "s" for loud frames: its decoder ran on the speech');
    assert.ok(final.recognitionMs >= 0 && final.speechEndMs > final.speechStartMs);
  });

  it('streams partial transcripts while the user speaks, then a final one (streaming model)', async () => {
    host = new EngineHost({ modulePath: ENGINE, name: 'asr', options: { vad, modelDir: writeTinyStreamingAsrModel(dir) } });
    assert.deepEqual(await host.start(), { kind: 'streaming-ctc', streaming: true });
    const events = await feed(host, 'arctic_aew_a0001');
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'speech-start');
    assert.deepEqual(types.slice(-2), ['speech-end', 'final']);
    const partials = events.filter((e): e is Extract<AsrEvent, { type: 'partial' }> => e.type === 'partial').map((e) => e.text);
    assert.ok(partials.length >= 3, `${partials.length} partials`);
    assert.ok(partials.every((p, i) => i === 0 || p.length > partials[i - 1].length), 'each partial extends the last');
    const final = events.at(-1) as Extract<AsrEvent, { type: 'final' }>;
    assert.match(final.text, /^s+$/);
    assert.ok(final.text.length >= partials.at(-1)!.length);
  });

  it('hears nothing in noise', async () => {
    host = new EngineHost({ modulePath: ENGINE, name: 'asr', options: { vad, modelDir: writeTinyAsrModel(dir) } });
    assert.deepEqual(await feed(host, 'noise_dishes_6s'), []);
  });

  it('without a model still reports speech start and end (barge-in only)', async () => {
    host = new EngineHost({ modulePath: ENGINE, name: 'asr', options: { vad, modelDir: '' } });
    assert.deepEqual(await host.start(), { kind: 'vad-only', streaming: false });
    assert.deepEqual(
      (await feed(host, 'arctic_aew_a0002')).map((e) => e.type),
      ['speech-start', 'speech-end'],
    );
  });

  it('refuses a missing VAD model with a clear error instead of letting sherpa-onnx exit', async () => {
    host = new EngineHost({ modulePath: ENGINE, name: 'asr', options: { vad: { ...vad, model: join(dir, 'no-vad.onnx') }, modelDir: '' } });
    await assert.rejects(host.start(), { code: 'VAD_MISSING', message: /Silero VAD model not found/ });
  });

  it('names the missing file of a model folder instead of letting sherpa-onnx exit', async () => {
    const broken = writeTinyAsrModel(join(dir, 'broken'));
    unlinkSync(join(broken, 'tokens.txt'));
    host = new EngineHost({ modulePath: ENGINE, name: 'asr', options: { vad, modelDir: broken } });
    await assert.rejects(host.start(), { code: 'MODEL_FILE_MISSING', message: /has no tokens\.txt/ });
  });
});

describe('model folder detection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-detect-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const folder = (name: string, files: string[]) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const f of files) writeFileSync(join(d, f), '');
    return d;
  };

  it('recognises the catalog archives by their files, int8 first where sherpa expects it', () => {
    const zipformer = detectRecognizer(
      folder('sherpa-onnx-streaming-zipformer-en-20M-2023-02-17', [
        'encoder-epoch-99-avg-1.onnx',
        'encoder-epoch-99-avg-1.int8.onnx',
        'decoder-epoch-99-avg-1.onnx',
        'decoder-epoch-99-avg-1.int8.onnx',
        'joiner-epoch-99-avg-1.int8.onnx',
        'joiner-epoch-99-avg-1.onnx',
        'tokens.txt',
      ]),
    );
    assert.equal(zipformer.kind, 'streaming-transducer');
    const t = (zipformer.config.modelConfig as { transducer: Record<string, string> }).transducer;
    assert.match(t.encoder, /encoder-epoch-99-avg-1\.int8\.onnx$/);
    assert.match(t.decoder, /decoder-epoch-99-avg-1\.onnx$/);
    assert.equal(detectRecognizer(folder('whisper', ['tiny.en-encoder.int8.onnx', 'tiny.en-decoder.int8.onnx', 'tiny.en-tokens.txt'])).kind, 'whisper');
    assert.equal(
      detectRecognizer(folder('moonshine', ['preprocess.onnx', 'encode.int8.onnx', 'uncached_decode.int8.onnx', 'cached_decode.int8.onnx', 'tokens.txt'])).kind,
      'moonshine',
    );
    assert.equal(detectRecognizer(folder('sherpa-onnx-sense-voice-zh-en', ['model.int8.onnx', 'tokens.txt'])).kind, 'sensevoice');
  });

  it('names what is missing', () => {
    assert.throws(() => detectRecognizer(folder('nojoiner', ['encoder.onnx', 'decoder.onnx', 'tokens.txt'])), { message: /has no joiner\*\.onnx/ });
    assert.throws(() => detectRecognizer(join(dir, 'absent')), { code: 'MODEL_MISSING' });
    assert.throws(() => detectRecognizer(folder('empty', [])), { message: /has no model\.onnx/ });
  });
});
