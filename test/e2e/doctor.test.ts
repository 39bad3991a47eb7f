import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, runChecks } from '../../lib/doctor';
import { ROOT } from '../support/paths';
import { startVirtualCard, stopVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER, virtualCardMissing } from '../support/virtual-card';

describe('npm run doctor', function () {
  this.timeout(60_000);
  const missing = virtualCardMissing();
  const modelsDir = mkdtempSync(join(tmpdir(), 'rv-doctor-'));
  const savedDir = process.env.VOICE_MODELS_DIR;
  let server: Server;
  let url = '';
  before(async function () {
    if (missing) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    startVirtualCard();
    process.env.VOICE_MODELS_DIR = modelsDir;
    server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    if (missing) return;
    stopVirtualCard();
    server.close();
    // Assigning undefined would set the string "undefined": every later test would look for models there.
    if (savedDir === undefined) delete process.env.VOICE_MODELS_DIR;
    else process.env.VOICE_MODELS_DIR = savedDir;
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('checks models, audio devices, engines and the llama-server, and says what to do', async () => {
    const checks = await runChecks({ LLAMA_SERVER_URL: url });
    const models = checks.filter((c) => c.area === 'models');
    assert.ok(models.length >= 5 && models.every((c) => !c.ok && /models pull default/.test(c.detail)), 'missing models name the command that installs them');
    const audify = checks.find((c) => c.what === 'backend audify');
    assert.equal(audify?.ok, true, audify?.detail);
    assert.ok(audify?.detail.includes(VIRTUAL_MIC) && audify.detail.includes(VIRTUAL_SPEAKER), audify?.detail);
    assert.ok(checks.filter((c) => c.area === 'engines').every((c) => c.ok));
    assert.equal(checks.find((c) => c.area === 'llama-server')?.ok, true);
    const lines: string[] = [];
    assert.equal(report(checks, (l) => lines.push(l)), 1, 'missing models fail the doctor');
    assert.ok(lines.some((l) => l.startsWith('✗ models')));
  });

  it('reports a llama-server that is down', async () => {
    const down = createServer();
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const port = (down.address() as AddressInfo).port;
    await new Promise((r) => down.close(r));
    const checks = await runChecks({ LLAMA_SERVER_URL: `http://127.0.0.1:${port}` });
    const server = checks.find((c) => c.area === 'llama-server');
    assert.equal(server?.ok, false);
    assert.match(server?.detail ?? '', /unreachable/);
  });

  it('checks the llama-server a flow names, saying which flow', async () => {
    const flow = join(modelsDir, 'flows.json');
    writeFileSync(flow, JSON.stringify([{ id: 'l1', type: 'llama-llm', url }, { id: 'l2', type: 'llama-llm', url: '' }]));
    const checks = await runChecks({}, [flow]);
    const servers = checks.filter((c) => c.area === 'llama-server');
    assert.deepEqual(servers.map((c) => [c.what, c.ok]), [[`${url} (from ${flow})`, true]]);
  });

  it('prints only its checks: what the audio libraries say while devices are listed stays out', () => {
    // The real command, as a user runs it; with the virtual card stopped the libraries complain the most.
    stopVirtualCard();
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'realtime-voice.ts'), 'doctor'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, VOICE_MODELS_DIR: modelsDir, PULSE_SERVER: 'unix:/nonexistent/pulse' },
      });
      assert.equal(run.stderr, '', 'nothing on stderr');
      const lines = run.stdout.trim().split('\n').filter((l) => l !== '');
      const checks = lines.filter((l) => /^[✓✗–] (models|audio|engines|llama-server) /.test(l));
      const others = lines.filter((l) => !checks.includes(l));
      assert.equal(others.length, 1, run.stdout);
      assert.match(others[0], /^\d+ problem\(s\) found\.$/);
      assert.ok(checks.some((l) => l.startsWith('✗ audio        backend audify: no input device found')), run.stdout);
    } finally {
      startVirtualCard();
    }
  });
});
