import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DEFAULTS } from '../../nodes/llama-llm/config';
import { hasChromium, launchChromium } from '../support/chromium';
import { launchCheckoutNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { until } from '../support/wait';

type FlowNode = { id: string; type: string; z?: string; version?: number; wires?: string[][] };
type Link = [source: string, port: number, target: string];

/** The settings a version 2 node was saved with: all of today's but the tools'. */
const { tools: _t, toolTimeout: _tt, allowedSpeakers: _a, ...V2 } = DEFAULTS;

/** A llama-llm as saved before version 3: four outputs' wires (chunks, reply, control, metrics), to four debug nodes. */
const old = (id: string, z: string): FlowNode[] => [
  { id, type: 'llama-llm', z, ...V2, version: 2, wires: [[`${id}-chunks`], [`${id}-reply`], [`${id}-control`], [`${id}-metrics`]], ...{ x: 200, y: 100, url: 'http://127.0.0.1:9' } },
  ...['chunks', 'reply', 'control', 'metrics'].map((what, i) => ({ id: `${id}-${what}`, type: 'debug', z, name: what, x: 450, y: 40 + 40 * i, wires: [] })),
];
/** Where each output should lead today: chunks, reply, (tool calls: nothing), control, metrics. */
const expected = (id: string): Link[] => [
  [id, 0, `${id}-chunks`],
  [id, 1, `${id}-reply`],
  [id, 3, `${id}-control`],
  [id, 4, `${id}-metrics`],
];

describe('llama-llm: the editor moves the wires of a node saved with four outputs past "tool calls" (headless Chromium)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let userDir: string;
  let browser: Browser;
  let page: Page;

  before(async function () {
    if (!hasChromium()) this.skip();
    userDir = mkdtempSync(join(tmpdir(), 'rv-llm-wires-'));
    red = await launchCheckoutNodeRed(userDir, [{ id: 'tab1', type: 'tab', label: 'old' }, ...old('saved', 'tab1')]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(red.base);
    await page.waitForSelector('#red-ui-workspace-chart g.red-ui-flow-node-group', { timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  const links = (id: string): Promise<Link[]> =>
    page.evaluate((source) => {
      type L = { source: { id: string }; sourcePort: number; target: { id: string } };
      const RED = (window as unknown as { RED: { nodes: { filterLinks(f: object): L[] } } }).RED;
      return RED.nodes
        .filterLinks({ source: { id: source } })
        .map((l): [string, number, string] => [l.source.id, l.sourcePort, l.target.id])
        .sort((a, b) => a[1] - b[1]);
    }, id);

  it('a flow loaded from disk: control and metrics wires on ports 4 and 5, the node at version 3 and to be deployed', async () => {
    assert.deepEqual(await links('saved'), expected('saved'));
    const state = await page.evaluate(() => {
      const RED = (window as unknown as { RED: { nodes: { node(id: string): { version: number; changed: boolean }; dirty(): boolean } } }).RED;
      return { version: RED.nodes.node('saved').version, changed: RED.nodes.node('saved').changed, dirty: RED.nodes.dirty() };
    });
    assert.deepEqual(state, { version: 3, changed: true, dirty: true });
  });

  it('deployed, the saved flow has five outputs with "tool calls" empty, and version 3', async () => {
    await page.evaluate(() => (window as unknown as { RED: { actions: { invoke(name: string): void } } }).RED.actions.invoke('core:deploy-flows'));
    const saved = () => (JSON.parse(readFileSync(join(userDir, 'flows.json'), 'utf8')) as FlowNode[]).find((n) => n.id === 'saved')!;
    await until(() => saved().version === 3, 20_000, 'the deploy to write flows.json');
    assert.deepEqual(saved().wires, [['saved-chunks'], ['saved-reply'], [], ['saved-control'], ['saved-metrics']]);
  });

  it('an old export pasted in (import) is moved the same way; a node of today is left as it is', async () => {
    const today: FlowNode[] = [
      { id: 'new', type: 'llama-llm', z: 'tab1', ...DEFAULTS, version: 3, wires: [['new-a'], [], ['new-b'], [], []], ...{ x: 200, y: 400 } },
      { id: 'new-a', type: 'debug', z: 'tab1', wires: [] },
      { id: 'new-b', type: 'debug', z: 'tab1', wires: [] },
    ];
    await page.evaluate((nodes) => (window as unknown as { RED: { view: { importNodes(n: unknown, o: object): void } } }).RED.view.importNodes(nodes, { generateIds: false }), [...old('pasted', 'tab1'), ...today]);
    assert.deepEqual(await links('pasted'), expected('pasted'));
    assert.deepEqual(await links('new'), [
      ['new', 0, 'new-a'],
      ['new', 2, 'new-b'],
    ]);
    // What a deploy or an export would write.
    const exported = await page.evaluate(() =>
      (window as unknown as { RED: { nodes: { createCompleteNodeSet(): FlowNode[] } } }).RED.nodes.createCompleteNodeSet().filter((n) => n.type === 'llama-llm').map((n) => [n.id, n.version, n.wires]),
    );
    assert.deepEqual(exported, [
      ['saved', 3, [['saved-chunks'], ['saved-reply'], [], ['saved-control'], ['saved-metrics']]],
      ['pasted', 3, [['pasted-chunks'], ['pasted-reply'], [], ['pasted-control'], ['pasted-metrics']]],
      ['new', 3, [['new-a'], [], ['new-b'], [], []]],
    ]);
  });
});
