import assert from 'node:assert/strict';
import { launchSecuredNodeRed, type SecuredNodeRed } from '../support/admin-auth';
import { useVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER } from '../support/virtual-card';

type DeviceList = { backends: string[]; devices: Array<{ name: string; inputChannels: number; outputChannels: number }>; error?: string };

/**
 * The sound-card editor fills its device dropdowns from an admin endpoint.
 * Listing devices opens the audio system, so it sits behind Node-RED's admin
 * login: checked in a real Node-RED with adminAuth, on the virtual card.
 */
describe('sound-card device list behind Node-RED admin auth', function () {
  this.timeout(120_000);
  useVirtualCard();
  let nr: SecuredNodeRed;
  let base: string;

  before(async () => {
    nr = await launchSecuredNodeRed({ admin: '*', viewer: 'read' });
    base = nr.red.base;
  });

  after(() => nr.stop());

  const devicesUrl = (backend: string) => `${base}/realtime-voice/audio-devices?backend=${backend}`;

  it('refuses a visitor who is not logged in', async () => {
    assert.equal((await fetch(devicesUrl('audify'))).status, 401);
    assert.equal((await fetch(devicesUrl('audify'), { headers: { Authorization: 'Bearer forged' } })).status, 401);
  });

  it('lists the devices by name for a logged-in user, read-only users included', async () => {
    for (const user of ['admin', 'viewer']) {
      const res = await fetch(devicesUrl('audify'), { headers: await nr.login(user) });
      assert.equal(res.status, 200, user);
      const body = (await res.json()) as DeviceList;
      assert.ok(body.backends.includes('audify'), JSON.stringify(body.backends));
      assert.ok(body.devices.some((d) => d.name === VIRTUAL_MIC && d.inputChannels > 0), JSON.stringify(body));
      assert.ok(body.devices.some((d) => d.name === VIRTUAL_SPEAKER && d.outputChannels > 0), JSON.stringify(body));
    }
  });

  it('answers an unknown backend with 400 and the backends it has', async () => {
    const res = await fetch(devicesUrl('jack'), { headers: await nr.login('admin') });
    assert.equal(res.status, 400);
    const body = (await res.json()) as DeviceList;
    assert.match(body.error ?? '', /unknown backend "jack"/);
    assert.ok(body.backends.includes('audify'));
  });
});
