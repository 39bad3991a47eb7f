import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import helper from 'node-red-node-test-helper';
import wyomingIn from '../../../nodes/wyoming-in/wyoming-in';
import wyomingOut from '../../../nodes/wyoming-out/wyoming-out';
import wyomingServer from '../../../nodes/wyoming-server/wyoming-server';
import type { WyomingServerNode } from '../../../nodes/wyoming-server/server-node';
import { lastStatus } from '../../support/node-red';
import { until } from '../../support/wait';
import { RawClient } from '../../support/wyoming-socket';

helper.init(require.resolve('node-red'));

const nodes = [wyomingServer, wyomingIn, wyomingOut];

describe('wyoming nodes: settings and their failures (real Node-RED)', function () {
  this.timeout(20_000);
  afterEach(() => helper.unload());

  it('a server saved by an older editor (numbers and booleans as text) serves what it says', async () => {
    await helper.load(nodes, [
      { id: 'f1', type: 'tab' },
      { id: 'srv', type: 'wyoming-server', port: '0', host: '127.0.0.1', asr: 'false', tts: 'true', handle: 'false', agentName: 'Kitchen', timeout: '5' },
      { id: 'speak', z: 'f1', type: 'wyoming-in', server: 'srv', service: 'tts', wires: [[]] },
    ] as never);
    const srv = helper.getNode('srv') as unknown as WyomingServerNode;
    const port = await srv.started;
    assert.deepEqual(srv.server.options.services, ['tts']);
    assert.equal(srv.server.options.answerTimeoutMs, 5000);
    assert.equal(srv.server.options.room, 'home-assistant', 'a server saved before rooms gets its own room');
    const c = await RawClient.open(port);
    c.send('describe');
    const info = await c.next('info');
    assert.deepEqual([(info!.data.asr as unknown[]).length, (info!.data.tts as unknown[]).length, (info!.data.handle as unknown[]).length], [0, 1, 0]);
    c.close();
    await until(() => lastStatus('speak').text === `tts :${port}`, 5000, 'the port in the status');
  });

  it('a port in use: the server says so, its nodes show "port in use"', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      await helper.load(nodes, [
        { id: 'f1', type: 'tab' },
        { id: 'srv', type: 'wyoming-server', port, host: '127.0.0.1', asr: true, tts: true, handle: true },
        { id: 'speak', z: 'f1', type: 'wyoming-in', server: 'srv', service: 'tts', wires: [[]] },
      ] as never);
      await assert.rejects((helper.getNode('srv') as unknown as WyomingServerNode).started, /port \d+ is in use/);
      await until(() => lastStatus('speak').text === 'port in use', 5000, 'the status');
      assert.equal(lastStatus('speak').fill, 'red');
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('Zeroconf on a loopback address: a warning that Home Assistant elsewhere cannot connect', async () => {
    await helper.load(nodes, [{ id: 'srv', type: 'wyoming-server', port: 0, host: '127.0.0.1', asr: true, tts: true, handle: true, zeroconf: true }] as never);
    const srv = helper.getNode('srv') as unknown as WyomingServerNode & { warn: { args: unknown[][] } };
    await srv.started;
    assert.ok(srv.warn.args.some((a) => /listening on 127\.0\.0\.1 only.*0\.0\.0\.0/.test(String(a[0]))), JSON.stringify(srv.warn.args));
  });

  it('wyoming-in and wyoming-out without a server: a red "no server" and an error that says what to do', async () => {
    await helper.load(nodes, [
      { id: 'f1', type: 'tab' },
      { id: 'in', z: 'f1', type: 'wyoming-in', server: '', service: 'asr', wires: [[]] },
      { id: 'out', z: 'f1', type: 'wyoming-out', server: '' },
    ] as never);
    for (const id of ['in', 'out']) {
      assert.deepEqual(lastStatus(id), { fill: 'red', shape: 'ring', text: 'no server' });
      const errors = (helper.getNode(id) as unknown as { error: { args: unknown[][] } }).error.args.map((a) => String(a[0]));
      assert.ok(errors.some((e) => /needs a wyoming-server/.test(e)), errors.join());
    }
  });
});
