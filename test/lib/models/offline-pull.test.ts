import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CATALOG, type CatalogEntry } from '../../../lib/models/catalog';
import { runCli } from '../../../lib/models/cli';
import { FileServer, randomFile } from '../../support/file-server';
import { TEST_VAD } from '../../support/vad';

class Capture extends Writable {
  text = '';
  _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * The offline way as a user follows it: the catalog's hosts are a server on
 * 127.0.0.1 that is down, the files are real (the Silero VAD beside the
 * checkout with the catalog's own size and SHA-256, and a two-file voice),
 * and they are put exactly where `pull` says.
 */
describe('models pull offline', () => {
  const voice = randomFile(40_000);
  const json = randomFile(300);
  const vadBytes = readFileSync(TEST_VAD.model);
  let dir: string;
  let catalog: CatalogEntry[];
  let downUrl: string;

  before(async () => {
    const down = await new FileServer().start();
    downUrl = down.base;
    await down.stop();
    const vad = CATALOG.find((e) => e.name === 'vad-silero');
    assert.ok(vad);
    catalog = [
      { ...vad, files: vad.files.map((f) => ({ ...f, url: `${downUrl}/silero_vad.onnx` })) },
      {
        name: 'tts-test-voice',
        kind: 'tts',
        description: 'test voice',
        licence: 'test',
        files: [
          { url: `${downUrl}/en_US-test-medium.onnx`, path: 'voice.onnx', size: voice.body.length, sha256: voice.sha256 },
          { url: `${downUrl}/en_US-test-medium.onnx.json`, path: 'voice.onnx.json', size: json.body.length, sha256: json.sha256 },
        ],
      },
    ];
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rv-offline-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]) {
    const out = new Capture();
    const err = new Capture();
    const code = await runCli(args, { catalog, bundles: { starter: ['vad-silero', 'tts-test-voice'] }, dir, out, err });
    return { code, out: out.text, err: err.text };
  }

  /** The URL -> path pairs pull printed, in order. */
  function printedPairs(text: string): Map<string, string> {
    return new Map([...text.matchAll(/^ {2}(\S+)\n {4}-> (.+)$/gm)].map((m) => [m[1], m[2]]));
  }

  /** The command after "Then run:", as CLI arguments. */
  function nextStep(text: string): string[] {
    const line = /^Then run: npx realtime-voice (.+)$/m.exec(text);
    assert.ok(line, `no next step in:\n${text}`);
    return line[1].split(' ');
  }

  it('lists every URL and path of a bundle at once; the files put there are installed by the one next step', async () => {
    const first = await cli('models', 'pull', 'starter');
    assert.equal(first.code, 1);
    const pairs = printedPairs(first.err);
    assert.deepEqual([...pairs.keys()], catalog.flatMap((e) => e.files.map((f) => f.url)), 'all three files of both models, not only the first');
    assert.match(first.err, /cannot reach 127\.0\.0\.1:\d+/);
    assert.equal(first.err.match(/^Then run:/gm)?.length, 1, 'one next step');

    // The user downloads on another machine and copies each file to its printed path.
    copyFileSync(TEST_VAD.model, pairs.get(`${downUrl}/silero_vad.onnx`) as string);
    writeFileSync(pairs.get(`${downUrl}/en_US-test-medium.onnx`) as string, voice.body);
    writeFileSync(pairs.get(`${downUrl}/en_US-test-medium.onnx.json`) as string, json.body);
    // A user who runs verify first is sent to pull, which installs them.
    const early = await cli('models', 'verify');
    assert.match(early.out, /files put in .*\.downloads are not installed yet; install them with: npx realtime-voice models pull vad-silero tts-test-voice/);

    const second = await cli(...nextStep(first.err));
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /vad-silero: installed/);
    assert.match(second.out, /tts-test-voice: installed/);
    assert.deepEqual(readFileSync(join(dir, 'vad-silero', 'silero_vad.onnx')), vadBytes);
    assert.deepEqual(readFileSync(join(dir, 'tts-test-voice', 'voice.onnx')), voice.body);
    assert.ok(!existsSync(join(dir, '.downloads', 'vad-silero')), 'the staging folder is cleaned up');

    const verify = await cli('models', 'verify');
    assert.equal(verify.code, 0);
    assert.match(verify.out, /vad-silero: ok\ntts-test-voice: ok/);
  });

  it('refuses a wrong file at the printed path by name, keeps it aside, installs the rest and lists it again', async () => {
    const pairs = printedPairs((await cli('models', 'pull', 'starter')).err);
    const vadPath = pairs.get(`${downUrl}/silero_vad.onnx`) as string;
    copyFileSync(TEST_VAD.model, vadPath);
    const voicePath = pairs.get(`${downUrl}/en_US-test-medium.onnx`) as string;
    const wrong = Buffer.from(voice.body);
    wrong[100] ^= 0xff; // same size, another digest: a different file
    writeFileSync(voicePath, wrong);

    const again = await cli('models', 'pull', 'starter');
    assert.equal(again.code, 1);
    assert.match(again.out, /vad-silero: installed/);
    assert.ok(again.err.includes(`refused ${voicePath}: it is not the file of ${downUrl}/en_US-test-medium.onnx (SHA-256 `), again.err);
    assert.deepEqual(readFileSync(`${voicePath}.rejected`), wrong, 'the refused file is moved aside, not deleted');
    assert.deepEqual([...printedPairs(again.err).keys()], [`${downUrl}/en_US-test-medium.onnx`, `${downUrl}/en_US-test-medium.onnx.json`]);
  });

  it('pull --from installs from a folder of downloaded files under any names, without the network', async () => {
    const usb = mkdtempSync(join(tmpdir(), 'rv-usb-'));
    try {
      mkdirSync(join(usb, 'voices'));
      copyFileSync(TEST_VAD.model, join(usb, 'silero_vad (1).onnx'));
      writeFileSync(join(usb, 'voices', 'en_US-test-medium.onnx'), voice.body);
      writeFileSync(join(usb, 'voices', 'en_US-test-medium.onnx.json'), json.body);
      writeFileSync(join(usb, 'notes.txt'), 'not a model');

      const pull = await cli('models', 'pull', 'starter', '--from', usb);
      assert.equal(pull.code, 0, pull.err);
      assert.deepEqual(readFileSync(join(dir, 'vad-silero', 'silero_vad.onnx')), vadBytes);
      assert.deepEqual(readFileSync(join(dir, 'tts-test-voice', 'voice.onnx.json')), json.body);
      assert.ok(existsSync(join(usb, 'voices', 'en_US-test-medium.onnx')), 'the folder is copied from, not emptied');
      assert.equal((await cli('models', 'verify')).code, 0);
    } finally {
      rmSync(usb, { recursive: true, force: true });
    }
  });

  it('pull --from names a folder that does not exist, and a missing folder argument is a usage error', async () => {
    const missing = await cli('models', 'pull', 'starter', '--from', join(dir, 'no-such-stick'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /--from .*no-such-stick: no such folder/);
    assert.equal((await cli('models', 'pull', 'starter', '--from')).code, 2);
  });
});
