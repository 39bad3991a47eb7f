import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectModel } from '../../../lib/asr/model-folder';
import { writeModel } from '../../support/onnx-builder';

type Files = Record<string, Record<string, string | number> | string>;

describe('model folder detection', () => {
  const root = mkdtempSync(join(tmpdir(), 'rv-detect-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;

  /** A folder laid out like an archive: strings are text files, objects are .onnx files carrying that metadata. */
  const folder = (files: Files, name = `m${n++}`) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) {
      if (typeof content === 'string') writeFileSync(join(dir, file), content);
      else
        writeModel(join(dir, file), {
          inputs: [{ name: 'x', type: 'float', shape: [1] }],
          outputs: [{ name: 'y', type: 'float', shape: [1] }],
          nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
          metadata: content,
        });
    }
    return dir;
  };
  const modelConfig = (spec: { config: Record<string, unknown> }) => spec.config.modelConfig as Record<string, Record<string, string> | string>;
  const TOKENS = '<blk> 0\na 1\n';
  const NEMO_STREAMING = {
    window_size: 9,
    chunk_shift: 8,
    subsampling_factor: 8,
    vocab_size: 1024,
    cache_last_channel_dim1: 17,
    cache_last_channel_dim2: 70,
    cache_last_channel_dim3: 512,
    cache_last_time_dim1: 17,
    cache_last_time_dim2: 512,
    cache_last_time_dim3: 8,
  };

  it('streaming zipformer (20M archive): int8 encoder and joiner, float decoder, type from the encoder metadata', () => {
    const zip = { model_type: 'zipformer' };
    const spec = detectModel(
      folder({
        'encoder-epoch-99-avg-1.onnx': zip,
        'encoder-epoch-99-avg-1.int8.onnx': zip,
        'decoder-epoch-99-avg-1.onnx': {},
        'decoder-epoch-99-avg-1.int8.onnx': {},
        'joiner-epoch-99-avg-1.int8.onnx': {},
        'joiner-epoch-99-avg-1.onnx': {},
        'tokens.txt': TOKENS,
      }),
    );
    assert.equal(spec.kind, 'streaming-transducer');
    assert.equal(spec.streaming, true);
    const mc = modelConfig(spec);
    const t = mc.transducer as Record<string, string>;
    assert.match(t.encoder, /encoder-epoch-99-avg-1\.int8\.onnx$/);
    assert.match(t.decoder, /decoder-epoch-99-avg-1\.onnx$/);
    assert.match(t.joiner, /joiner-epoch-99-avg-1\.int8\.onnx$/);
    assert.equal(mc.modelType, 'zipformer');
    assert.equal(spec.config.enableEndpoint, 0, 'the VAD decides the end, not the recogniser');
  });

  it('zipformer2 exports without model_type are known by their chunk naming; others are refused, named', () => {
    const files = (suffix: string, meta: Record<string, string>) => ({
      [`encoder-epoch-99-avg-1${suffix}.onnx`]: meta,
      [`decoder-epoch-99-avg-1${suffix}.onnx`]: {},
      [`joiner-epoch-99-avg-1${suffix}.onnx`]: {},
      'tokens.txt': TOKENS,
    });
    assert.equal(modelConfig(detectModel(folder(files('-chunk-16-left-128', {})))).modelType, 'zipformer2');
    assert.throws(() => detectModel(folder(files('', {}))), { code: 'MODEL_METADATA_MISSING', message: /encoder-epoch-99-avg-1\.onnx has no model_type/ });
  });

  it('Whisper, Moonshine and SenseVoice, with the language passed on', () => {
    const whisper = detectModel(folder({ 'tiny.en-encoder.int8.onnx': {}, 'tiny.en-decoder.int8.onnx': {}, 'tiny.en-encoder.onnx': {}, 'tiny.en-decoder.onnx': {}, 'tiny.en-tokens.txt': '' }), 'en');
    assert.equal(whisper.kind, 'whisper');
    assert.equal(whisper.streaming, false);
    assert.match((modelConfig(whisper).whisper as Record<string, string>).encoder, /tiny\.en-encoder\.int8\.onnx$/);
    assert.equal((modelConfig(whisper).whisper as Record<string, string>).language, 'en');
    assert.match(modelConfig(whisper).tokens as string, /tiny\.en-tokens\.txt$/);

    const multilingual = { is_multilingual: 1, all_language_codes: 'en,zh,de' };
    const base = () => folder({ 'base-encoder.onnx': multilingual, 'base-decoder.onnx': {}, 'base-tokens.txt': '' });
    assert.equal((modelConfig(detectModel(base(), 'de')).whisper as Record<string, string>).language, 'de');
    assert.equal((modelConfig(detectModel(base())).whisper as Record<string, string>).language, '', 'empty: Whisper detects it');
    // sherpa-onnx would exit at the first decode.
    assert.throws(() => detectModel(base(), 'german'), { code: 'BAD_SETTING', statusText: 'unknown language', message: /"german".*en, zh, de/ });

    const moonshine = detectModel(folder({ 'preprocess.onnx': {}, 'encode.int8.onnx': {}, 'uncached_decode.int8.onnx': {}, 'cached_decode.int8.onnx': {}, 'tokens.txt': '' }));
    assert.equal(moonshine.kind, 'moonshine');

    const sense = { model_type: 'sense_voice_ctc', vocab_size: 25055, lfr_window_size: 7, lfr_window_shift: 6, normalize_samples: 0 };
    // Any folder name: the metadata tells.
    const sensevoice = detectModel(folder({ 'model.int8.onnx': sense, 'tokens.txt': TOKENS }, 'my-recogniser'), 'zh');
    assert.equal(sensevoice.kind, 'sensevoice');
    assert.equal((modelConfig(sensevoice).senseVoice as Record<string, string>).language, 'zh');
  });

  it('tells NeMo streaming CTC from per-utterance NeMo CTC by their metadata, not the folder name', () => {
    const streaming = detectModel(folder({ 'model.int8.onnx': NEMO_STREAMING, 'tokens.txt': TOKENS }, 'renamed-a'));
    assert.deepEqual([streaming.kind, streaming.streaming], ['streaming-ctc', true]);
    const offline = detectModel(folder({ 'model.onnx': { model_type: 'EncDecCTCModelBPE', vocab_size: 1024, subsampling_factor: 8 }, 'tokens.txt': TOKENS }, 'streaming-but-not'));
    assert.deepEqual([offline.kind, offline.streaming], ['nemo-ctc', false]);
  });

  it('names a missing metadata key or blank symbol instead of letting sherpa-onnx end the process', () => {
    const { cache_last_time_dim3: _dropped, ...partial } = NEMO_STREAMING;
    assert.throws(() => detectModel(folder({ 'model.onnx': partial, 'tokens.txt': TOKENS })), {
      code: 'MODEL_METADATA_MISSING',
      message: /model\.onnx lacks the metadata cache_last_time_dim3/,
    });
    assert.throws(() => detectModel(folder({ 'model.onnx': { model_type: 'EncDecCTCModelBPE' }, 'tokens.txt': TOKENS })), { message: /lacks the metadata vocab_size, subsampling_factor/ });
    assert.throws(() => detectModel(folder({ 'model.onnx': { model_type: 'paraformer' }, 'tokens.txt': TOKENS })), { code: 'MODEL_UNSUPPORTED', message: /model_type "paraformer"/ });
    assert.throws(() => detectModel(folder({ 'model.onnx': NEMO_STREAMING, 'tokens.txt': 'a 0\nb 1\n' })), { code: 'MODEL_FILE_INVALID', message: /tokens\.txt has no blank symbol/ });
  });

  it('names the missing file in the error and in the status text', () => {
    const noJoiner = folder({ 'encoder.onnx': { model_type: 'zipformer' }, 'decoder.onnx': {}, 'tokens.txt': TOKENS });
    assert.throws(() => detectModel(noJoiner), { code: 'MODEL_FILE_MISSING', message: /has no joiner\*\.onnx/, statusText: 'no joiner*.onnx' });
    assert.throws(() => detectModel(folder({ 'model.onnx': NEMO_STREAMING })), { statusText: 'no tokens.txt' });
    assert.throws(() => detectModel(folder({ 'tokens.txt': TOKENS })), { statusText: 'no model.onnx' });
    assert.throws(() => detectModel(folder({ 'tiny.en-encoder.onnx': {}, 'tiny.en-decoder.onnx': {} })), { message: /has no \*-tokens\.txt/ });
    assert.throws(() => detectModel(join(root, 'absent')), { code: 'MODEL_MISSING', statusText: 'no model: see debug' });
    const file = join(root, 'a-file.onnx');
    writeFileSync(file, '');
    assert.throws(() => detectModel(file), { code: 'MODEL_MISSING', message: /model folder not found/ });
  });
});
