import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineHost } from '../../../lib/engine/host';
import type { SentenceAudio } from '../../../lib/tts/piper-engine';
import { phonemeIds } from '../../../lib/tts/phoneme-ids';
import { writeModel } from '../../support/onnx-builder';
import { SHARED_MODELS } from '../../support/paths';
import { SAMPLES_PER_ID, writeTinyPiperVoice } from '../../support/tiny-piper-voice';

const ENGINE = require.resolve('../../../lib/tts/piper-engine');

/** Reads the ids back out of the tiny voice's audio (each id = 64 samples of id/1000 × length_scale). */
function idsIn(samples: Float32Array, lengthScale: number, silence: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i + SAMPLES_PER_ID <= samples.length - silence; i += SAMPLES_PER_ID) ids.push(Math.round((samples[i] / lengthScale) * 1000));
  return ids;
}

describe('Piper engine in a worker (tiny Piper-shaped voice)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-piper-'));
  let host: EngineHost;
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => host?.close());

  it('runs text → phonemes → ids → onnxruntime → audio, one sentence at a time', async () => {
    const voice = writeTinyPiperVoice(dir);
    host = new EngineHost({ modulePath: ENGINE, name: 'tts', options: { modelPath: voice } });
    const info = (await host.start()) as { sampleRate: number };
    assert.equal(info.sampleRate, 16000);
    const sentences: SentenceAudio[] = [];
    const result = (await host.call('synthesize', { text: 'Hello world. How are you?', lengthScale: 1.5, sentenceSilence: 0.1 }, { onChunk: (c) => sentences.push(c as SentenceAudio) })) as {
      sentences: number;
      audioMs: number;
    };
    assert.equal(result.sentences, 2);
    assert.deepEqual(
      sentences.map((s) => s.text),
      ['Hello world.', 'How are you?'],
    );
    const map = JSON.parse(readFileSync(join(SHARED_MODELS, 'tts', 'piper-en-us-phoneme-map.onnx.json'), 'utf8')).phoneme_id_map as Record<string, number[]>;
    for (const s of sentences) {
      assert.deepEqual(idsIn(s.samples, 1.5, 1600), phonemeIds(s.phonemes, map).ids, `${s.text}: the model got Piper's ids and the length scale`);
      assert.ok(s.samples.subarray(-1600).every((v) => v === 0), 'sentence silence appended');
    }
    assert.ok(Math.abs(result.audioMs - ((sentences[0].samples.length + sentences[1].samples.length) / 16)) < 1);
  });

  it('feeds the speaker id to a multi-speaker voice and refuses one that does not exist', async () => {
    const voice = writeTinyPiperVoice(dir, 'multi', true);
    const json = JSON.parse(readFileSync(`${voice}.json`, 'utf8'));
    json.num_speakers = 3;
    writeFileSync(`${voice}.json`, JSON.stringify(json));
    host = new EngineHost({ modulePath: ENGINE, name: 'tts', options: { modelPath: voice } });
    const ok = (await host.call('synthesize', { text: 'Hi.', speakerId: 2 })) as { sentences: number };
    assert.equal(ok.sentences, 1);
    await assert.rejects(host.call('synthesize', { text: 'Hi.', speakerId: 3 }), { code: 'BAD_SPEAKER', message: /speaker id 3 does not exist/ });
  });

  it('stops between sentences when cancelled', async () => {
    host = new EngineHost({ modulePath: ENGINE, name: 'tts', options: { modelPath: writeTinyPiperVoice(dir, 'cancel') } });
    await host.start();
    const controller = new AbortController();
    let chunks = 0;
    const call = host.call('synthesize', { text: 'One. Two. Three. Four. Five. Six. Seven. Eight.' }, {
      signal: controller.signal,
      onChunk: () => {
        chunks++;
        controller.abort();
      },
    });
    await assert.rejects(call, { name: 'AbortError' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(chunks, 1);
  });

  it('names what is missing: the .json, the model, or Piper inputs', async () => {
    const voice = writeTinyPiperVoice(dir, 'nojson');
    unlinkSync(`${voice}.json`);
    host = new EngineHost({ modulePath: ENGINE, name: 'tts', options: { modelPath: voice } });
    await assert.rejects(host.start(), { code: 'VOICE_JSON_MISSING', message: /nojson\.onnx\.json/ });
    await host.close();
    host = new EngineHost({ modulePath: ENGINE, name: 'tts', options: { modelPath: join(dir, 'absent.onnx') } });
    await assert.rejects(host.start(), { code: 'VOICE_MISSING' });
    await host.close();
    const notPiper = writeModel(join(dir, 'other.onnx'), {
      inputs: [{ name: 'x', type: 'float', shape: [1] }],
      outputs: [{ name: 'y', type: 'float', shape: [1] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    copyFileSync(`${writeTinyPiperVoice(dir, 'donor')}.json`, `${notPiper}.json`);
    host = new EngineHost({ modulePath: ENGINE, name: 'tts', options: { modelPath: notPiper } });
    await assert.rejects(host.start(), { code: 'VOICE_UNSUPPORTED', message: /no input input, input_lengths, scales/ });
  });
});
