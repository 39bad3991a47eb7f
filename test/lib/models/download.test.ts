import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFile } from '../../../lib/models/download';
import { FileServer, randomFile } from '../../support/file-server';

describe('downloadFile against a real HTTP server on 127.0.0.1', () => {
  const good = randomFile(300_000);
  let server: FileServer;
  let dir: string;

  before(async () => {
    server = await new FileServer().start();
    server.files.set('/good.bin', { body: good.body });
    server.files.set('/truncated.bin', { body: good.body.subarray(0, 120_000) });
    server.files.set('/reset.bin', { body: good.body, resetAfter: 100_000 });
    server.redirects.set('/moved.bin', '/good.bin');
  });
  after(() => server.stop());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rv-download-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('downloads a good file, checks it and renames it into place', async () => {
    const dest = join(dir, 'model.onnx');
    const progress: number[] = [];
    await downloadFile({ url: `${server.base}/good.bin`, dest, size: good.body.length, sha256: good.sha256, onProgress: (r) => progress.push(r) });
    assert.deepEqual(readFileSync(dest), good.body);
    assert.ok(!existsSync(`${dest}.partial`));
    assert.equal(progress.at(-1), good.body.length);
  });

  it('follows redirects (GitHub and Hugging Face send you to a CDN)', async () => {
    const dest = join(dir, 'model.onnx');
    await downloadFile({ url: `${server.base}/moved.bin`, dest, size: good.body.length, sha256: good.sha256 });
    assert.equal(statSync(dest).size, good.body.length);
  });

  it('refuses a truncated file with SIZE_MISMATCH and keeps nothing', async () => {
    const dest = join(dir, 'model.onnx');
    await assert.rejects(downloadFile({ url: `${server.base}/truncated.bin`, dest, size: good.body.length, sha256: good.sha256 }), {
      code: 'SIZE_MISMATCH',
      message: /got 120000 bytes, expected 300000/,
    });
    assert.ok(!existsSync(dest) && !existsSync(`${dest}.partial`));
  });

  it('refuses a wrong digest with DIGEST_MISMATCH and removes the partial so the next try starts clean', async () => {
    const dest = join(dir, 'model.onnx');
    const wrong = 'f'.repeat(64);
    await assert.rejects(downloadFile({ url: `${server.base}/good.bin`, dest, size: good.body.length, sha256: wrong }), {
      code: 'DIGEST_MISMATCH',
      message: new RegExp(`SHA-256 is ${good.sha256}, expected ${wrong}`),
    });
    assert.ok(!existsSync(dest) && !existsSync(`${dest}.partial`));
  });

  it('reports a 404 with the status and the URL', async () => {
    await assert.rejects(downloadFile({ url: `${server.base}/nope.bin`, dest: join(dir, 'x'), size: 1, sha256: null }), {
      code: 'HTTP_STATUS',
      message: new RegExp(`HTTP 404 for ${server.base}/nope.bin`),
    });
  });

  it('keeps the partial after a connection reset and resumes from it', async () => {
    const dest = join(dir, 'model.onnx');
    const url = `${server.base}/reset.bin`;
    await assert.rejects(downloadFile({ url, dest, size: good.body.length, sha256: good.sha256 }), { code: 'CONNECTION_RESET', message: /next try resumes/ });
    const kept = statSync(`${dest}.partial`).size;
    assert.ok(kept > 0 && kept <= 100_000, `partial holds ${kept} bytes`);
    await downloadFile({ url, dest, size: good.body.length, sha256: good.sha256 });
    assert.deepEqual(readFileSync(dest), good.body);
    const resumed = server.requests.filter((r) => r.path === '/reset.bin').at(-1);
    assert.equal(resumed?.headers.range, `bytes=${kept}-`);
  });

  it('says it is offline when nothing listens (pull then lists the files for the offline way)', async () => {
    const closed = await new FileServer().start();
    const url = `${closed.base}/model.onnx`;
    await closed.stop();
    const dest = join(dir, 'model.onnx');
    await assert.rejects(downloadFile({ url, dest, size: 10, sha256: null }), {
      code: 'OFFLINE',
      message: new RegExp(`cannot reach ${new URL(url).host} \\(ECONNREFUSED\\): you seem to be offline`),
    });
  });

  it('takes a whole, right file put at dest by hand without asking the server', async () => {
    const dest = join(dir, 'model.onnx');
    writeFileSync(dest, good.body);
    const before = server.requests.length;
    await downloadFile({ url: `${server.base}/good.bin`, dest, size: good.body.length, sha256: good.sha256 });
    assert.equal(server.requests.length, before);
    assert.deepEqual(readFileSync(dest), good.body);
  });

  it('moves a wrong file put at dest aside, says so, and downloads the right one', async () => {
    const dest = join(dir, 'model.onnx');
    writeFileSync(dest, good.body.subarray(0, 1000));
    const refused: string[] = [];
    await downloadFile({ url: `${server.base}/good.bin`, dest, size: good.body.length, sha256: good.sha256, onRefused: (m) => refused.push(m) });
    assert.deepEqual(readFileSync(dest), good.body);
    assert.equal(statSync(`${dest}.rejected`).size, 1000);
    assert.deepEqual(refused, [`refused ${dest}: it is not the file of ${server.base}/good.bin (1000 bytes, expected ${good.body.length}); moved to ${dest}.rejected`]);
  });
});
