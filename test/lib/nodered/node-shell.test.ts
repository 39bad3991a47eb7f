import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { onClose, onInput } from '../../../lib/nodered/input';
import { migrate } from '../../../lib/nodered/migrate';
import { shortText, Status } from '../../../lib/nodered/status';
import { nextMessage } from '../../support/node-red';

helper.init(require.resolve('node-red'));

/** A node type built only from the shared shell helpers, as every real node is. */
function testNodes(RED: NodeAPI): void {
  RED.nodes.registerType('shell-test', function (this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    onInput(this, async (msg, send) => {
      await new Promise((r) => setTimeout(r, 5));
      if (msg.payload === 'boom') throw new Error('model file missing: tokens.txt (download it with models pull)');
      send({ ...msg, payload: `ok ${String(msg.payload)}` });
    });
    onClose(this, () => new Promise(() => undefined), 100);
  });
}

const flow = [
  { id: 'f1', type: 'tab' },
  { id: 'n1', z: 'f1', type: 'shell-test', wires: [['out']] },
  { id: 'out', z: 'f1', type: 'helper' },
  { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'f1', type: 'helper' },
];

describe('node shell helpers in a real Node-RED runtime', () => {
  afterEach(async () => {
    await helper.unload();
  });

  it('forwards the result of an async handler', async () => {
    await helper.load(testNodes, flow);
    const got = nextMessage<{ payload: unknown }>('out');
    helper.getNode('n1').receive({ payload: 'hi' });
    assert.equal((await got).payload, 'ok hi');
  });

  it('routes an async failure to a Catch node and turns the status red', async () => {
    await helper.load(testNodes, flow);
    const n1 = helper.getNode('n1');
    const got = nextMessage<{ error: { message: string; source: { id: string } } }>('caught');
    n1.receive({ payload: 'boom' });
    const msg = await got;
    assert.match(msg.error.message, /model file missing: tokens\.txt/);
    assert.equal(msg.error.source.id, 'n1');
    const status = (n1.status as unknown as { lastCall: { args: [{ fill: string; text: string }] } }).lastCall.args[0];
    assert.equal(status.fill, 'red');
    assert.equal(status.text, 'model file missing');
  });

  it('finishes closing even when the cleanup hangs', async () => {
    await helper.load(testNodes, flow);
    const log = helper.log() as unknown as { args: [{ level: number; msg: unknown }][] };
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 2000);
    // Node-RED's own limit is 15 s; ours gave up after 100 ms and logged a warning.
    assert.ok(log.args.some(([entry]) => entry.level === 40), 'a warning is logged');
  });
});

describe('status and migrations', () => {
  it('keeps status text under 20 characters', () => {
    assert.equal(shortText('short'), 'short');
    assert.equal(shortText('a very long status text here').length, 19);
    assert.deepEqual(Status.failed('x'), { fill: 'red', shape: 'ring', text: 'x' });
  });

  it('brings an old saved config up to the current version, step by step', () => {
    interface Cfg {
      version?: number;
      threads?: number;
      cores?: number;
      url?: string;
    }
    const steps = [
      { version: 2, up: (c: Cfg & Record<string, unknown>) => ({ ...c, url: c.url ?? '' }) },
      { version: 1, up: ({ cores, ...c }: Cfg & Record<string, unknown>) => ({ ...c, threads: cores }) },
    ];
    assert.deepEqual(migrate<Cfg>({ cores: 2 }, steps), { threads: 2, url: '', version: 2 });
    assert.deepEqual(migrate<Cfg>({ version: 2, threads: 4, url: 'x' }, steps), { version: 2, threads: 4, url: 'x' });
  });
});
