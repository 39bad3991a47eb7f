import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CATALOG, type CatalogEntry } from '../../lib/models/catalog';
import { hasChromium, launchChromium } from '../support/chromium';
import { launchCheckoutNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { ROOT } from '../support/paths';

type FlowNode = { id: string; type: string; z?: string; x?: number; y?: number };
type Box = { id: string; label: string; left: number; top: number; right: number; bottom: number };

/** The first screen a user sees: the editor in a 1280x800 window, palette and sidebar open, default zoom. */
const WINDOW = { width: 1280, height: 800 };
const FLOWS = join(ROOT, 'flows');
const VOICES = ['tts-piper-en-us-joe-medium', 'tts-piper-en-us-hfc-female-medium'].map((name) => CATALOG.find((e) => e.name === name) as CatalogEntry);

/**
 * Each shipped flow on its own tab; the examples without one (Node-RED puts
 * them on the tab being viewed) get a tab as an import would give them.
 */
function shippedTabs(): { file: string; tab: string; nodes: FlowNode[] }[] {
  return readdirSync(FLOWS)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const nodes = JSON.parse(readFileSync(join(FLOWS, file), 'utf8')) as FlowNode[];
      const own = nodes.find((n) => n.type === 'tab');
      const tab = own?.id ?? `tab-${file}`;
      const placed = nodes.map((n) => (n.x !== undefined && !n.z ? { ...n, z: tab } : n));
      return { file, tab, nodes: own ? placed : [{ id: tab, type: 'tab', label: file } as FlowNode, ...placed] };
    });
}

/**
 * Every node as the editor draws it: its whole group (body, ports, icon,
 * status text underneath), in window pixels.
 */
function drawnBoxes(page: Page): Promise<Box[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group')).map((g) => {
      const r = g.getBoundingClientRect();
      return { id: g.id, label: g.textContent?.trim() ?? '', left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    }),
  );
}

const overlaps = (a: Box, b: Box) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

describe('the editor as a new user first sees it, at 1280x800 (headless Chromium)', function () {
  this.timeout(120_000);
  const tabs = shippedTabs();
  let red: NodeRedProcess;
  let userDir: string;
  let browser: Browser;
  let page: Page;

  before(async function () {
    if (!hasChromium()) this.skip();
    userDir = mkdtempSync(join(tmpdir(), 'rv-layout-'));
    // Two voices' install records (no files): what the voice dropdown lists; the nodes still find no voice to load.
    for (const voice of VOICES) {
      mkdirSync(join(userDir, 'models', voice.name), { recursive: true });
      writeFileSync(join(userDir, 'models', voice.name, '.installed.json'), JSON.stringify({ name: voice.name, files: [] }));
    }
    // No models: the nodes show their red statuses, as on a new user's first start.
    red = await launchCheckoutNodeRed(userDir, tabs.flatMap((t) => t.nodes), { ...process.env, VOICE_MODELS_DIR: join(userDir, 'models') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: WINDOW });
    await page.goto(red.base);
    await page.waitForSelector('#red-ui-workspace-chart g.red-ui-flow-node-group', { timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await red?.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  for (const { file, tab, nodes } of tabs) {
    it(`${file}: every node fits the visible workspace, none overlaps another`, async () => {
      await page.evaluate((id) => (window as unknown as { RED: { workspaces: { show(id: string): void } } }).RED.workspaces.show(id), tab);
      const drawn = nodes.filter((n) => n.z === tab);
      // The statuses come over the comms socket after the flow is drawn: wait for the red ones too.
      await page.waitForFunction((n) => document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group').length === n, drawn.length);
      await page.waitForTimeout(1000);
      const scale = await page.evaluate(() => (window as unknown as { RED: { view: { scale(): number } } }).RED.view.scale());
      assert.equal(scale, 1, 'default zoom');
      const chart = await page.evaluate(() => {
        const r = (document.getElementById('red-ui-workspace-chart') as HTMLElement).getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      });
      const boxes = await drawnBoxes(page);
      assert.deepEqual(boxes.map((b) => b.id).sort(), drawn.map((n) => n.id).sort(), 'every node of the flow is drawn');
      const outside = boxes.filter((b) => b.left < chart.left || b.top < chart.top || b.right > chart.right || b.bottom > chart.bottom);
      const overlapping: string[] = [];
      for (const [i, a] of boxes.entries()) for (const b of boxes.slice(i + 1)) if (overlaps(a, b)) overlapping.push(`${a.label} / ${b.label}`);
      mkdirSync(join(ROOT, '.test-output'), { recursive: true });
      await page.screenshot({ path: join(ROOT, '.test-output', `layout-${file.replace(/\.json$/, '')}.png`) });
      assert.deepEqual({ outside: outside.map((b) => b.label), overlapping }, { outside: [], overlapping: [] }, `visible workspace: ${JSON.stringify(chart)}`);
    });
  }

  it('the palette names each node on one line as its type reads ("speaker-out", not "speaker -" over "out")', async () => {
    const types = ['mic-in', 'voiceprint', 'asr', 'llama-llm', 'piper-tts', 'speaker-out'];
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="speaker-out"]', { state: 'attached', timeout: 30_000 });
    const labels = await page.evaluate(
      (ts) =>
        ts.map((t) => {
          const label = document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"] .red-ui-palette-label`) as HTMLElement;
          const node = label.closest('.red-ui-palette-node') as HTMLElement;
          return { type: t, text: label.textContent ?? '', lines: label.querySelectorAll('br').length + 1, fits: label.scrollWidth <= node.clientWidth };
        }),
      types,
    );
    // Node-RED breaks labels at ASCII hyphens; ours use U+2011, the non-breaking hyphen, which looks the same.
    assert.deepEqual(
      labels.map((l) => [l.text.replace(/\u2011/g, '-'), l.lines, l.fits]),
      types.map((t) => [t, 1, true]),
    );
  });

  it('the voice dropdown of piper-tts shows each installed voice with its licence', async () => {
    const tts = tabs.flatMap((t) => t.nodes).find((n) => n.type === 'piper-tts') as FlowNode;
    await page.evaluate((id) => {
      const red = (window as unknown as { RED: { nodes: { node(id: string): unknown }; editor: { edit(node: unknown): void } } }).RED;
      red.editor.edit(red.nodes.node(id));
    }, tts.id);
    await page.waitForFunction((n) => document.querySelectorAll('#node-input-voicePath option').length === n, VOICES.length + 1);
    const options = await page.locator('#node-input-voicePath option').allTextContents();
    assert.deepEqual(
      options.slice(1),
      VOICES.map((v) => `${v.name} — ${v.description} — licence: ${v.licence}`),
    );
    assert.match(options[2], /licence: CC BY-NC-SA 4\.0 \(non-commercial\)$/);
    assert.match(options[1], /^tts-piper-en-us-joe-medium .* licence: CC0$/, 'the default voice, first');
    await page.screenshot({ path: join(ROOT, '.test-output', 'piper-tts-voices.png') });
    await page.click('#node-dialog-cancel');
  });
});
