import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BUNDLES, CATALOG, type CatalogEntry } from '../../../lib/models/catalog';
import { runCli } from '../../../lib/models/cli';
import { installedModels } from '../../../lib/models/installed';
import { modelsDir } from '../../../lib/models/models-dir';
import { sha256File } from '../../../lib/models/verify';
import { FileServer, randomFile } from '../../support/file-server';

class Capture extends Writable {
  text = '';
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('model catalog', () => {
  it('has unique names, https URLs, and digests that are 64 hex digits or explicitly unknown', () => {
    assert.equal(new Set(CATALOG.map((e) => e.name)).size, CATALOG.length);
    for (const entry of CATALOG) {
      for (const f of entry.files) {
        assert.match(f.url, /^https:\/\//, entry.name);
        assert.ok(f.sha256 === null || /^[0-9a-f]{64}$/.test(f.sha256), `${entry.name} digest`);
        assert.ok(f.size === null || (Number.isInteger(f.size) && f.size > 0), `${entry.name} size`);
      }
    }
  });

  it('bundles name only catalog models, all of them verified', () => {
    for (const [bundle, names] of Object.entries(BUNDLES)) {
      for (const name of names) {
        const entry = CATALOG.find((e) => e.name === name);
        assert.ok(entry, `${bundle} lists unknown ${name}`);
        assert.ok(entry.files.every((f) => f.sha256 && f.size), `${bundle}: ${name} is not fully verified`);
      }
    }
  });

  it('lists installed models per kind: archives as folders, single files as the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-installed-'));
    try {
      for (const name of ['vad-silero', 'asr-zipformer-en-20m']) {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, '.installed.json'), '{"name":"x","files":[]}');
      }
      assert.deepEqual(
        installedModels('vad', dir).map((m) => m.path),
        [join(dir, 'vad-silero', 'silero_vad.onnx')],
      );
      assert.deepEqual(
        installedModels('asr', dir).map((m) => m.path),
        [join(dir, 'asr-zipformer-en-20m')],
      );
      assert.deepEqual(installedModels('tts', dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('puts models in $VOICE_MODELS_DIR when set', () => {
    const saved = process.env.VOICE_MODELS_DIR;
    process.env.VOICE_MODELS_DIR = '/srv/voice-models';
    try {
      assert.equal(modelsDir(), '/srv/voice-models');
    } finally {
      if (saved === undefined) delete process.env.VOICE_MODELS_DIR;
      else process.env.VOICE_MODELS_DIR = saved;
    }
  });
});

describe('realtime-voice models CLI', () => {
  const voice = randomFile(50_000);
  const json = randomFile(500);
  let server: FileServer;
  let dir: string;
  let catalog: CatalogEntry[];
  let archiveSha = '';
  let archiveSize = 0;

  before(async () => {
    server = await new FileServer().start();
    server.files.set('/voice.onnx', { body: voice.body, resetAfter: 20_000 });
    server.files.set('/voice.onnx.json', { body: json.body });
    // A real .tar.bz2 with one top-level folder, like sherpa-onnx's releases.
    const src = mkdtempSync(join(tmpdir(), 'rv-archive-'));
    mkdirSync(join(src, 'tiny-asr-2026'));
    writeFileSync(join(src, 'tiny-asr-2026', 'tokens.txt'), 'a 1\nb 2\n');
    writeFileSync(join(src, 'tiny-asr-2026', 'model.onnx'), voice.body.subarray(0, 1000));
    execFileSync('tar', ['-cjf', join(src, 'tiny.tar.bz2'), '-C', src, 'tiny-asr-2026']);
    const archive = readFileSync(join(src, 'tiny.tar.bz2'));
    archiveSha = await sha256File(join(src, 'tiny.tar.bz2'));
    archiveSize = archive.length;
    rmSync(src, { recursive: true, force: true });
    server.files.set('/tiny.tar.bz2', { body: archive });
    catalog = [
      {
        name: 'tts-test-voice',
        kind: 'tts',
        description: 'test voice',
        licence: 'test',
        files: [
          { url: `${server.base}/voice.onnx`, path: 'voice.onnx', size: voice.body.length, sha256: voice.sha256 },
          { url: `${server.base}/voice.onnx.json`, path: 'voice.onnx.json', size: json.body.length, sha256: json.sha256 },
        ],
      },
      {
        name: 'asr-test-archive',
        kind: 'asr',
        description: 'test archive',
        licence: 'test',
        files: [{ url: `${server.base}/tiny.tar.bz2`, path: 'tiny.tar.bz2', size: archiveSize, sha256: archiveSha, archive: 'tar.bz2' }],
      },
      {
        name: 'llm-unpinned',
        kind: 'llm',
        description: 'no digest known',
        licence: 'test',
        files: [{ url: `${server.base}/voice.onnx.json`, path: 'model.gguf', size: null, sha256: null }],
      },
    ];
  });
  after(() => server.stop());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rv-models-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]) {
    const out = new Capture();
    const err = new Capture();
    const code = await runCli(args, { catalog, bundles: { both: ['tts-test-voice', 'asr-test-archive'] }, dir, out, err });
    return { code, out: out.text, err: err.text };
  }

  it('pulls a bundle: resumes after a reset, unpacks the archive, then lists and verifies it as installed', async () => {
    const pull = await cli('models', 'pull', 'both');
    assert.equal(pull.code, 0, pull.err);
    assert.match(pull.out, /tts-test-voice: installed/);
    assert.match(pull.out, /asr-test-archive: installed/);
    assert.match(pull.err, /100% of/, 'progress is shown');
    assert.deepEqual(readFileSync(join(dir, 'tts-test-voice', 'voice.onnx')), voice.body);
    assert.equal(readFileSync(join(dir, 'asr-test-archive', 'tokens.txt'), 'utf8'), 'a 1\nb 2\n');
    assert.ok(server.requests.some((r) => r.path === '/voice.onnx' && r.headers.range), 'the reset download was resumed');

    const list = await cli('models', 'list');
    assert.match(list.out, /tts-test-voice\s+tts\s+0\.1 MB\s+yes/);
    assert.match(list.out, /llm-unpinned\s+llm\s+\?\s+no/);

    const verify = await cli('models', 'verify');
    assert.equal(verify.code, 0);
    assert.match(verify.out, /tts-test-voice: ok/);
    assert.match(verify.out, /asr-test-archive: ok/);

    const again = await cli('models', 'pull', 'tts-test-voice');
    assert.match(again.out, /already installed/);
  });

  it('verify finds a corrupted file and a missing one', async () => {
    assert.equal((await cli('models', 'pull', 'both')).code, 0);
    const onnx = join(dir, 'tts-test-voice', 'voice.onnx');
    const bytes = readFileSync(onnx);
    bytes[10] ^= 0xff;
    writeFileSync(onnx, bytes);
    rmSync(join(dir, 'asr-test-archive', 'tokens.txt'));
    const verify = await cli('models', 'verify');
    assert.equal(verify.code, 1);
    assert.match(verify.out, /voice\.onnx: wrong-digest/);
    assert.match(verify.out, /tokens\.txt: missing/);
  });

  it('refuses a model without a verified digest unless told --insecure-no-digest', async () => {
    const refused = await cli('models', 'pull', 'llm-unpinned');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /no verified SHA-256.*--insecure-no-digest/);
    assert.equal((await cli('models', 'pull', 'llm-unpinned', '--insecure-no-digest')).code, 0);
  });

  it('suggests the closest name for a typo and exits 1', async () => {
    const r = await cli('models', 'pull', 'tts-test-voise');
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown model "tts-test-voise"; did you mean "tts-test-voice"\?/);
  });

  it('prints usage and exits 2 on bad usage, 0 on --help', async () => {
    assert.equal((await cli()).code, 2);
    assert.equal((await cli('models', 'explode')).code, 2);
    assert.equal((await cli('models', 'pull')).code, 2);
    const help = await cli('models', '--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /pull <name\|bundle>/);
    assert.match(help.out, /--from <folder>/);
    const top = await cli('--help');
    assert.equal(top.code, 0);
    assert.match(top.out, /^ {2}models <command>/m);
    assert.match(top.out, /^ {2}doctor {2,}check models, sound devices, engines and llama-server/m);
  });
});
