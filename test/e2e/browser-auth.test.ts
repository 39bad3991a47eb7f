import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePort, launchNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { ROOT } from '../support/paths';

/**
 * Node-RED started as users start it (red.js, a settings file with
 * httpNodeAuth): the browser room's page and ticket are behind its basic
 * auth like every HTTP node, and the WebSocket opens only with the ticket
 * those routes give. Needs `npm run build`.
 */
describe('browser rooms behind httpNodeAuth (issue #18)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let userDir: string;
  const auth = { Authorization: `Basic ${Buffer.from('tablet:kitchen-pw').toString('base64')}` };

  before(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'rv-browser-auth-'));
    const port = await freePort();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hash = (require('bcryptjs') as { hashSync(pw: string, rounds: number): string }).hashSync('kitchen-pw', 8);
    const settings = { uiHost: '127.0.0.1', uiPort: port, flowFile: 'flows.json', credentialSecret: false, nodesDir: [ROOT], httpNodeAuth: { user: 'tablet', pass: hash }, editorTheme: { tours: false }, telemetry: { enabled: false } };
    writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
    writeFileSync(
      join(userDir, 'flows.json'),
      JSON.stringify([{ id: 'card', type: 'sound-card', version: 2, backend: 'browser', room: 'hall', input: '', output: '', sampleRate: 16000, frameMs: 20 }]),
    );
    red = await launchNodeRed([join(ROOT, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--port', String(port)], port);
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${red.base}/voice/hall`, { headers: auth })).status === 404 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  });

  after(async () => {
    await red?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  const upgrade = (url: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => resolve(-1));
    });

  it('the page and its ticket need the login; the WebSocket needs the ticket, even with the login', async () => {
    assert.equal((await fetch(`${red.base}/voice/hall`)).status, 401);
    assert.equal((await fetch(`${red.base}/voice/hall/ticket`)).status, 401);
    assert.equal((await fetch(`${red.base}/voice/hall`, { headers: auth })).status, 200);
    const ws = red.base.replace('http', 'ws');
    assert.equal(await upgrade(`${ws}/voice/hall/ws`), 401);
    assert.equal(await upgrade(`${ws}/voice/hall/ws`, auth), 401);
    const { ticket } = (await (await fetch(`${red.base}/voice/hall/ticket`, { headers: auth })).json()) as { ticket: string };
    assert.equal(await upgrade(`${ws}/voice/hall/ws?ticket=${ticket}`), 101);
    assert.equal(await upgrade(`${ws}/voice/hall/ws?ticket=${ticket.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`), 401, 'a forged ticket');
    // The editor's own socket still works beside ours.
    assert.equal(await upgrade(`${ws}/comms`), 101);
  });
});
