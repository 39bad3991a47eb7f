import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hasChromium, launchChromium } from '../support/chromium';
import { clickTreeItem, inEditor, openEditor, openExamples, stopsSliding, treeState } from '../support/editor-ui';
import { freePort, launchNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { ROOT } from '../support/paths';

describe('npm start', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let userDir: string;
  let base: string;
  const log = () => red.log();

  before(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'rv-start-'));
    const port = await freePort();
    red = await launchNodeRed([join(ROOT, 'scripts', 'start.mjs')], port, {
      cwd: ROOT,
      // An empty models directory: the start script must say what to do about it.
      env: { ...process.env, PORT: String(port), NODE_RED_USER_DIR: userDir, VOICE_MODELS_DIR: join(userDir, 'models') },
    });
    base = red.base;
  });

  after(async () => {
    await red.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('serves the editor on 127.0.0.1 only', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Node-RED/);
    assert.match(log(), new RegExp(`Server now running at ${base.replace(/\./g, '\\.')}`));
  });

  it('deploys the voice-assistant flow on first start and tells what to do about missing models', async () => {
    const flows = (await (await fetch(`${base}/flows`)).json()) as Array<{ type: string }>;
    for (const type of ['mic-in', 'voiceprint', 'asr', 'llama-llm', 'piper-tts', 'speaker-out', 'sound-card']) {
      assert.ok(flows.some((n) => n.type === type), `the deployed flow has a ${type} node`);
    }
    assert.match(log(), /models pull default/);
  });

  it('loads every node of the package from the checkout, without errors, in the voice category', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const expected = Object.keys(pkg['node-red'].nodes);
    assert.ok(expected.length > 0, 'package.json registers no nodes');
    const sets = (await (await fetch(`${base}/nodes`, { headers: { Accept: 'application/json' } })).json()) as {
      module: string;
      name: string;
      err?: string;
      enabled: boolean;
      types: string[];
    }[];
    const ours = sets.filter((s) => s.module === pkg.name);
    for (const name of expected) {
      const set = ours.find((s) => s.name === name);
      assert.ok(set, `node set ${name} is not loaded`);
      assert.equal(set.err, undefined, `node set ${name} failed: ${set.err}`);
      assert.ok(set.enabled);
    }
    const html = await (await fetch(`${base}/nodes`, { headers: { Accept: 'text/html' } })).text();
    assert.match(html, /category:\s*['"]voice['"]/);
    for (const name of expected) assert.match(html, new RegExp(`data-help-name="${name}"`), `${name} has editor help`);
  });

  it('serves the editor helper and the model lists behind the admin API', async () => {
    const helperJs = await fetch(`${base}/resources/node-red-contrib-realtime-voice/model-select.js`);
    assert.equal(helperJs.status, 200);
    assert.match(await helperJs.text(), /fillModelSelect/);
    const llm = (await (await fetch(`${base}/realtime-voice/llm-models`)).json()) as { installed: unknown[]; physicalCores: number };
    assert.ok(Array.isArray(llm.installed) && llm.physicalCores >= 1);
    const voices = (await (await fetch(`${base}/realtime-voice/tts-voices`)).json()) as { installed: unknown[] };
    assert.ok(Array.isArray(voices.installed));
    const recognisers = (await (await fetch(`${base}/realtime-voice/asr-models`)).json()) as { installed: unknown[] };
    assert.ok(Array.isArray(recognisers.installed));
    // npm start deploys the voice-assistant flow, which has a voiceprint node.
    assert.deepEqual(await (await fetch(`${base}/realtime-voice/voiceprints`)).json(), { names: [], deployed: true });
    const del = await fetch(`${base}/realtime-voice/voiceprints/nobody`, { method: 'DELETE' });
    assert.equal(del.status, 404);
    const audio = (await (await fetch(`${base}/realtime-voice/audio-devices?backend=audify`)).json()) as { backends: string[]; devices: unknown[] };
    assert.ok(audio.backends.includes('audify') && Array.isArray(audio.devices));
  });

  it('offers the shipped flows under Import > Examples', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const res = await fetch(`${base}/library/examples/flows/${pkg.name}/`);
    assert.equal(res.status, 200);
    const listing = JSON.stringify(await res.json());
    const shipped = readdirSync(join(ROOT, 'flows')).filter((f) => f.endsWith('.json'));
    assert.ok(shipped.length > 0);
    for (const f of shipped) assert.ok(listing.includes(f.replace(/\.json$/, '')), `${f} missing from ${listing}`);
  });

  describe('the editor in headless Chromium', () => {
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    before(async function () {
      if (!hasChromium()) this.skip();
      browser = await launchChromium();
      page = await openEditor(browser, base, pageErrors);
    });
    after(async () => {
      await browser?.close();
    });

    it('shows every node of the package in the palette, with no script errors', async () => {
      for (const type of ['mic-in', 'voiceprint', 'asr', 'llama-llm', 'piper-tts', 'speaker-out']) {
        assert.equal(await page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(), 1, `${type} is in the palette`);
      }
      assert.deepEqual(pageErrors, []);
    });

    it('shows the deployed voice-assistant flow and keeps a screenshot', async () => {
      const counts = await page.evaluate(() => {
        const red = (window as unknown as { RED: { nodes: { filterNodes(f: { type: string }): unknown[] } } }).RED;
        return ['mic-in', 'asr', 'llama-llm', 'piper-tts', 'speaker-out'].map((type) => red.nodes.filterNodes({ type }).length);
      });
      assert.deepEqual(counts, [1, 1, 1, 1, 1]);
      mkdirSync(join(ROOT, '.test-output'), { recursive: true });
      const shot = join(ROOT, '.test-output', 'editor.png');
      await page.screenshot({ path: shot });
      console.log(`      screenshot: ${shot}`);
    });

    it('renders every node\'s help in the help sidebar', async () => {
      for (const [type, words] of Object.entries(helpOpenings())) {
        await page.evaluate((t) => (window as unknown as { RED: { sidebar: { help: { show(type: string): void } } } }).RED.sidebar.help.show(t), type);
        await page.waitForFunction((w) => document.body.innerText.includes(w), words, { timeout: 5000 });
      }
    });

    it('imports the voice-assistant example from the menu into a new flow, as a copy, and deploys it with no errors', async () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
      const example = JSON.parse(readFileSync(join(ROOT, 'examples', 'voice-assistant.json'), 'utf8')) as Array<{ type: string; z?: string }>;
      const before = (await (await fetch(`${base}/flows`)).json()) as Array<{ id: string; type: string }>;
      const logFrom = log().length;
      // A second browser tab: the editor as a user opens it, next to the flow already deployed.
      const tabErrors: string[] = [];
      const tab = await openEditor(browser, base, tabErrors);
      try {
        // Every notification the editor shows, with its type (they fade away by themselves).
        await tab.evaluate(() => {
          const red = (window as unknown as { RED: { notify: (...args: unknown[]) => unknown } }).RED;
          const seen: Array<{ type: string; text: string }> = [];
          (window as unknown as { notes: typeof seen }).notes = seen;
          const notify = red.notify;
          red.notify = function (msg: unknown, type: unknown, ...rest: unknown[]) {
            const t = type !== null && typeof type === 'object' ? (type as { type?: string }).type : type;
            seen.push({ type: String(t ?? ''), text: String(msg).replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim() });
            return notify.call(this, msg, type, ...rest);
          };
        });
        const notes = () => tab.evaluate(() => (window as unknown as { notes: Array<{ type: string; text: string }> }).notes);

        // Menu ▸ Import ▸ Examples ▸ <package> ▸ voice-assistant, into a new flow.
        const tree = await openExamples(tab, pkg.name);
        await clickTreeItem(tab, tree, 'voice-assistant');
        await inEditor(
          tab,
          'voice-assistant is selected and Import is enabled',
          ([t]) =>
            document.querySelector(`${t} .red-ui-treeList-label.selected`)?.textContent === 'voice-assistant' &&
            !(document.getElementById('red-ui-clipboard-dialog-ok') as HTMLButtonElement).disabled,
          [tree],
          () => treeState(tab, tree),
        );
        await tab.click('#red-ui-clipboard-dialog-import-opt-new');
        await inEditor(tab, '"new flow" is chosen', () => document.querySelector('#red-ui-clipboard-dialog-import-opt-new.selected') !== null, [], () => treeState(tab, tree));
        await tab.click('#red-ui-clipboard-dialog-ok');
        // Its nodes are already in the workspace (npm start deployed the same flow): import a copy.
        // The notification slides in; its button is clicked once it stands still.
        const conflict = tab.locator('.red-ui-notification button', { hasText: 'Import copy' });
        await conflict.waitFor({ state: 'visible', timeout: 10_000 });
        await stopsSliding(tab, '#red-ui-notifications');
        await conflict.click();
        await tab.waitForFunction(
          (n) => (window as unknown as { RED: { nodes: { filterNodes(f: { type: string }): unknown[] } } }).RED.nodes.filterNodes({ type: 'llama-llm' }).length === n,
          2,
          { timeout: 10_000 },
        );

        await tab.click('#red-ui-header-button-deploy');
        await tab.waitForFunction(() => (window as unknown as { notes: Array<{ text: string }> }).notes.some((n) => /deploy/i.test(n.text)), undefined, { timeout: 30_000 });
        // The screenshot shows the imported flow, with the statuses its nodes have once deployed.
        await tab.evaluate((known) => {
          const red = (window as unknown as { RED: { nodes: { eachWorkspace(f: (ws: { id: string }) => void): void }; workspaces: { show(id: string): void } } }).RED;
          let added = '';
          red.nodes.eachWorkspace((ws) => {
            if (!known.includes(ws.id)) added = ws.id;
          });
          if (added) red.workspaces.show(added);
        }, before.filter((n) => n.type === 'tab').map((n) => n.id));
        await tab.waitForTimeout(1500);
        mkdirSync(join(ROOT, '.test-output'), { recursive: true });
        const shot = join(ROOT, '.test-output', 'editor-import-example.png');
        await tab.screenshot({ path: shot });
        console.log(`      screenshot: ${shot}`);

        const shown = await notes();
        // Only the import's own news (the conflict, then what was imported) and the deploy's success: no warning about the flow, no error.
        assert.ok(/already exist/.test(shown[0]?.text ?? ''), JSON.stringify(shown));
        assert.deepEqual(shown.filter((n) => n.type !== 'success' && !/already exist|^Imported: 1 flow \d+ nodes$/.test(n.text)), [], 'no warning or error in the editor');
        assert.ok(shown.some((n) => n.type === 'success' && /Successfully deployed/.test(n.text)), JSON.stringify(shown));
        assert.deepEqual(tabErrors, []);
        // The runtime has both flows now: the one npm start deployed and the imported copy, with new ids.
        const after = (await (await fetch(`${base}/flows`)).json()) as Array<{ id: string; type: string; z?: string }>;
        const tabs = after.filter((n) => n.type === 'tab');
        assert.equal(tabs.length, before.filter((n) => n.type === 'tab').length + 1);
        // Every node of the example, as a copy with an id of its own; an identical sound-card config node is shared, as Node-RED does with config nodes.
        const oldIds = new Set(before.map((n) => n.id));
        const added = after.filter((n) => !oldIds.has(n.id));
        const flowNodes = (nodes: Array<{ type: string; z?: string }>) => nodes.filter((n) => n.z).map((n) => n.type).sort();
        assert.deepEqual(flowNodes(added), flowNodes(example), 'every node of the example was deployed');
        const cards = new Set(after.filter((n) => n.type === 'sound-card').map((n) => n.id));
        for (const n of added.filter((x) => x.type === 'mic-in' || x.type === 'speaker-out')) assert.ok(cards.has((n as { card?: string }).card ?? ''), `${n.type} has its sound card`);
        assert.doesNotMatch(log().slice(logFrom), /missing node types|Error (starting|stopping|adding)|Flows stopped/i);
      } finally {
        await tab.close();
      }
    });
  });
});

/** Each node's type and the first words of its help text, from its editor file. */
function helpOpenings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(ROOT, 'nodes'))) {
    const html = readFileSync(join(ROOT, 'nodes', name, `${name}.html`), 'utf8');
    const help = new RegExp(`data-help-name="${name}">\\s*([^\\n]+)`).exec(html)?.[1] ?? '';
    out[name] = help.split(/\s+/).slice(0, 3).join(' ');
  }
  return out;
}
