import assert from 'node:assert/strict';
import { Bonjour, type Service } from 'bonjour-service';
import { SERVER_DEFAULTS, WyomingServer } from '../../../lib/wyoming/server';

/** What an mDNS browser on this machine hears of _wyoming._tcp within `ms` (Home Assistant's discovery does the same). */
function browse(ms: number): Promise<Service[]> {
  const bonjour = new Bonjour();
  const found: Service[] = [];
  bonjour.find({ type: 'wyoming', protocol: 'tcp' }, (s) => found.push(s));
  return new Promise((resolve) => setTimeout(() => bonjour.destroy(() => resolve(found)), ms));
}

describe('Wyoming server Zeroconf announcement (real mDNS)', function () {
  this.timeout(20_000);

  it('is off by default: nothing announces the server', async () => {
    const server = new WyomingServer({ ...SERVER_DEFAULTS, port: 0, host: '127.0.0.1', services: ['tts'], agentName: 'rv-test-quiet' });
    const port = await server.start();
    try {
      const heard = await browse(1500);
      assert.equal(heard.filter((s) => s.port === port).length, 0);
    } finally {
      await server.close();
    }
  });

  it('when asked, announces _wyoming._tcp with the agent name and port, and stops at close', async () => {
    const server = new WyomingServer({ ...SERVER_DEFAULTS, port: 0, host: '127.0.0.1', services: ['tts'], agentName: 'rv-test-announce', zeroconf: true });
    const port = await server.start();
    try {
      const heard = await browse(3000);
      const ours = heard.find((s) => s.port === port);
      assert.ok(ours, `heard ${heard.map((s) => `${s.name}:${s.port}`).join(', ') || 'nothing'}`);
      assert.equal(ours.name, 'rv-test-announce');
      assert.equal(ours.type, 'wyoming');
    } finally {
      await server.close();
    }
    const after = await browse(1500);
    assert.equal(after.filter((s) => s.port === port).length, 0, 'nobody answers for it once closed');
  });
});
