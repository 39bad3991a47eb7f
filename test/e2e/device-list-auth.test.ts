import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort, launchNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { ROOT } from '../support/paths';
import { useVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER } from '../support/virtual-card';

const PASSWORD = 'correct horse';

type DeviceList = { backends: string[]; devices: Array<{ name: string; inputChannels: number; outputChannels: number }>; error?: string };

/**
 * The sound-card editor fills its device dropdowns from an admin endpoint.
 * Listing devices opens the audio system, so it sits behind Node-RED's admin
 * login: checked in a real Node-RED with adminAuth, on the virtual card.
 */
describe('sound-card device list behind Node-RED admin auth', function () {
  this.timeout(120_000);
  useVirtualCard();
  let red: NodeRedProcess;
  let userDir: string;
  let base: string;

  before(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'rv-auth-'));
    const port = await freePort();
    const users = [
      { username: 'admin', password: bcrypt.hashSync(PASSWORD, 8), permissions: '*' },
      { username: 'viewer', password: bcrypt.hashSync(PASSWORD, 8), permissions: 'read' },
    ];
    writeFileSync(
      join(userDir, 'settings.js'),
      `module.exports = ${JSON.stringify({ uiHost: '127.0.0.1', uiPort: port, nodesDir: [ROOT], telemetry: { enabled: false }, adminAuth: { type: 'credentials', users } })};\n`,
    );
    red = await launchNodeRed([join(ROOT, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--port', String(port)], port);
    base = red.base;
  });

  after(async () => {
    await red.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  /** Logs in as the editor does; returns the Authorization header. */
  async function login(username: string, scope = '*'): Promise<{ Authorization: string }> {
    const res = await fetch(`${base}/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope, username, password: PASSWORD }),
    });
    assert.equal(res.status, 200, `login as ${username}`);
    return { Authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
  }

  const devicesUrl = (backend: string) => `${base}/realtime-voice/audio-devices?backend=${backend}`;

  it('refuses a visitor who is not logged in', async () => {
    assert.equal((await fetch(devicesUrl('audify'))).status, 401);
    assert.equal((await fetch(devicesUrl('audify'), { headers: { Authorization: 'Bearer forged' } })).status, 401);
  });

  it('lists the devices by name for a logged-in user, read-only users included', async () => {
    for (const [user, scope] of [['admin', '*'], ['viewer', 'read']]) {
      const res = await fetch(devicesUrl('audify'), { headers: await login(user, scope) });
      assert.equal(res.status, 200, user);
      const body = (await res.json()) as DeviceList;
      assert.ok(body.backends.includes('audify'), JSON.stringify(body.backends));
      assert.ok(body.devices.some((d) => d.name === VIRTUAL_MIC && d.inputChannels > 0), JSON.stringify(body));
      assert.ok(body.devices.some((d) => d.name === VIRTUAL_SPEAKER && d.outputChannels > 0), JSON.stringify(body));
    }
  });

  it('answers an unknown backend with 400 and the backends it has', async () => {
    const res = await fetch(devicesUrl('jack'), { headers: await login('admin') });
    assert.equal(res.status, 400);
    const body = (await res.json()) as DeviceList;
    assert.match(body.error ?? '', /unknown backend "jack"/);
    assert.ok(body.backends.includes('audify'));
  });
});
