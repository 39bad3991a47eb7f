import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import semver from 'semver';
import { hasChromium, launchChromium } from '../support/chromium';
import { clickTreeItem, openEditor, openExamples, stopsSliding } from '../support/editor-ui';
import { freePort, launchNodeRed, type NodeRedProcess } from '../support/node-red-process';
import { ROOT, SHARED_MODELS } from '../support/paths';

/**
 * The package as Node-RED users get it: `npm pack`, then uploaded to Manage palette in a fresh
 * Node-RED (which runs `npm install` with its own flags in the user directory), then that
 * Node-RED restarted. The Node-RED is the one `require('node-red')` finds: the checkout's 4.1,
 * or Node-RED 5 on Node 22 when run through scripts/node22.sh (test/support/node-red-5.ts).
 */

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
  'node-red': { version: string; nodes: Record<string, string> };
};
const NODE_RED_HOME = dirname(require.resolve('node-red/package.json'));
const NODE_RED_VERSION = (JSON.parse(readFileSync(join(NODE_RED_HOME, 'package.json'), 'utf8')) as { version: string }).version;
const REGISTRY = dirname(require.resolve('@node-red/registry/package.json', { paths: [NODE_RED_HOME] }));
/** What users download; the Flow Library and npm show it. Today ~0.2 MB. */
const PACKED_BUDGET = 1024 * 1024;
/** Everything a user's Node-RED needs from the tarball, and nothing else (no tests, no TypeScript, no source maps of sources not shipped). */
const SHIPPED = [/^package\.json$/, /^(README|CHANGELOG)\.md$/, /^LICENSE$/, /^dist\/.+\.(js|html)$/, /^dist\/nodes\/[^/]+\/icons\/[^/]+\.(svg|png)$/, /^examples\/[^/]+\.json$/, /^resources\/[^/]+\.js$/, /^docs\/[^/]+\.md$/];
/**
 * audify 1.10 (the default audio backend) depends on node-abi 4, whose `engines` says Node >= 22.12;
 * the palette manager installs with --engine-strict, so on older Node it refuses the package and
 * users install by hand in ~/.node-red (README, Requirements).
 */
const PALETTE_NODE = '>=22.12.0';
const TINY_GGUF = join(SHARED_MODELS, 'llm', 'stories260K.gguf');

type Packed = { filename: string; size: number; unpackedSize: number; files: { path: string; size: number }[] };
type NodeSet = { id: string; name: string; module: string; version: string; enabled: boolean; err?: string; types: string[] };

/** The flags Node-RED's palette manager gives `npm install`, read from the installed Node-RED's own source. */
function paletteFlags(): string[] {
  const source = readFileSync(join(REGISTRY, 'lib', 'installer.js'), 'utf8');
  const list = /"args":\s*\[([^\]]*--engine-strict[^\]]*)\]/.exec(source)?.[1];
  assert.ok(list, `no install flags found in ${REGISTRY}/lib/installer.js`);
  return JSON.parse(`[${list.replace(/'/g, '"')}]`) as string[];
}

/**
 * The environment of a user's Node-RED: none of npm's variables from the test run, onnxruntime's
 * CUDA download skipped as the README says. Native addons are built against the headers of the
 * Node that runs Node-RED (the system's, or the one scripts/node22.sh installs): npm cannot
 * download headers here.
 */
function userEnv(userDir: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const nodeDir = resolve(dirname(process.execPath), '..');
  if (existsSync(join(nodeDir, 'include', 'node', 'node.h'))) env.npm_config_nodedir = nodeDir;
  return { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip', VOICE_MODELS_DIR: join(userDir, 'models') };
}

async function startNodeRed(userDir: string, port: number): Promise<NodeRedProcess> {
  return launchNodeRed([join(NODE_RED_HOME, 'red.js'), '--userDir', userDir, '--port', String(port)], port, { env: userEnv(userDir) });
}

async function nodeSets(base: string): Promise<NodeSet[]> {
  const res = await fetch(`${base}/nodes`, { headers: { Accept: 'application/json' } });
  assert.equal(res.status, 200);
  return ((await res.json()) as NodeSet[]).filter((s) => s.module === PKG.name);
}

describe(`palette install: npm pack, Manage palette, Node-RED ${NODE_RED_VERSION} on Node ${process.version}`, function () {
  this.timeout(600_000);
  let work: string;
  let userDir: string;
  let port: number;
  let red: NodeRedProcess | undefined;
  let packed: Packed;
  let tarball: Buffer;
  /** What Manage palette answered to the upload, and how long its npm install took. */
  let upload: { status: number; body: string; seconds: number };
  let handInstall: string | undefined;
  /** What Node-RED logged while the palette manager installed (or refused). */
  let installLog = '';
  let installed: NodeSet[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'rv-palette-'));
    userDir = join(work, 'node-red');
    mkdirSync(userDir);
    // Built by `npm run build` (npm test does it first); prepack would rebuild dist/ under running tests.
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    packed = (JSON.parse(out) as Packed[])[0];
    tarball = readFileSync(join(work, packed.filename));
    port = await freePort();
    writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify({ uiHost: '127.0.0.1', flowFile: 'flows.json', editorTheme: { tours: false }, telemetry: { enabled: false } })};\n`);
    red = await startNodeRed(userDir, port);

    // Manage palette ▸ Install ▸ upload: the editor posts the tarball; Node-RED runs npm install in the user directory.
    const form = new FormData();
    form.append('tarball', new Blob([new Uint8Array(tarball)], { type: 'application/gzip' }), packed.filename);
    const started = Date.now();
    const res = await fetch(`${red.base}/nodes`, { method: 'POST', body: form, signal: AbortSignal.timeout(480_000) });
    upload = { status: res.status, body: await res.text(), seconds: (Date.now() - started) / 1000 };
    console.log(`      palette upload: HTTP ${upload.status} after ${upload.seconds.toFixed(0)} s`);
    if (upload.status === 200) installed = await nodeSets(red.base);
    else if (!semver.satisfies(process.version, PALETTE_NODE)) {
      // What users on this Node do instead: the same npm install, by hand, without --engine-strict.
      // Node-RED's own npm, found as its palette manager finds it.
      const npmCli = join(dirname(require.resolve('npm/package.json', { paths: [REGISTRY] })), 'bin', 'npm-cli.js');
      const flags = paletteFlags().filter((f) => f !== '--engine-strict');
      const run = spawnSync(process.execPath, [npmCli, 'install', ...flags, '--', join(work, packed.filename)], { cwd: userDir, env: userEnv(userDir), encoding: 'utf8' });
      handInstall = run.stdout + run.stderr;
      assert.equal(run.status, 0, handInstall);
    }
    installLog = red.log();
    await red.stop();
    red = await startNodeRed(userDir, port);
  });

  after(async () => {
    await red?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(`the tarball holds only what users need, under ${PACKED_BUDGET / 1024} KB`, () => {
    const paths = packed.files.map((f) => f.path);
    console.log(`      ${packed.filename}: ${(packed.size / 1024).toFixed(0)} KB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KB unpacked, ${paths.length} files`);
    assert.ok(packed.size < PACKED_BUDGET, `${packed.size} bytes packed`);
    assert.deepEqual(paths.filter((p) => !SHIPPED.some((re) => re.test(p))), [], 'files users do not need');
    for (const [name, js] of Object.entries(PKG['node-red'].nodes)) {
      assert.ok(paths.includes(js), `${name}: ${js}`);
      assert.ok(paths.includes(js.replace(/\.js$/, '.html')), `${name}: its editor file`);
    }
    for (const flow of readdirSync(join(ROOT, 'flows'))) assert.ok(paths.includes(`examples/${flow}`), `examples/${flow}`);
    for (const bin of Object.values((PKG as { bin?: Record<string, string> }).bin ?? {})) assert.ok(paths.includes(bin), bin);
  });

  it(`Manage palette installs it and loads every node at once (Node ${PALETTE_NODE}); on older Node it refuses, and npm install by hand works`, () => {
    if (semver.satisfies(process.version, PALETTE_NODE)) {
      assert.equal(upload.status, 200, upload.body);
      const info = JSON.parse(upload.body) as { name: string; version: string; nodes: NodeSet[] };
      assert.equal(info.name, PKG.name);
      assert.equal(info.version, PKG.version);
      assert.deepEqual(info.nodes.map((s) => [s.name, s.err ?? null]).sort(), Object.keys(PKG['node-red'].nodes).map((n) => [n, null]).sort());
      assert.deepEqual(installed.map((s) => s.name).sort(), Object.keys(PKG['node-red'].nodes).sort());
    } else {
      assert.notEqual(upload.status, 200, `the palette manager installed it on Node ${process.version}: say so in the README and here`);
      assert.match(installLog, /EBADENGINE[\s\S]*node-abi[\s\S]*>=22\.12/, 'the refusal is the one the README explains');
      assert.ok(handInstall !== undefined);
    }
    // Either way npm recorded it in the user directory's package.json, as Node-RED reads it at start.
    const userPkg = JSON.parse(readFileSync(join(userDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    assert.ok(userPkg.dependencies?.[PKG.name], JSON.stringify(userPkg));
  });

  it('after a restart every node registers with no load error, and /nodes lists the module with its version', async () => {
    const base = (red as NodeRedProcess).base;
    const sets = await nodeSets(base);
    assert.deepEqual(
      sets.map((s) => ({ name: s.name, version: s.version, enabled: s.enabled, err: s.err ?? null })).sort((a, b) => a.name.localeCompare(b.name)),
      Object.keys(PKG['node-red'].nodes)
        .sort()
        .map((name) => ({ name, version: PKG.version, enabled: true, err: null })),
    );
    const mod = (await (await fetch(`${base}/nodes/${PKG.name}`, { headers: { Accept: 'application/json' } })).json()) as { name: string; version: string; nodes: NodeSet[] };
    assert.equal(mod.version, PKG.version);
    assert.equal(mod.nodes.length, Object.keys(PKG['node-red'].nodes).length);
    // Loaded from the user directory's node_modules, as a palette install puts it, not from this checkout.
    assert.ok(existsSync(join(userDir, 'node_modules', PKG.name, 'package.json')));
    assert.doesNotMatch((red as NodeRedProcess).log(), /\[(error|warn)\].*realtime-voice|Failed to load/i);
  });

  it('package.json states what this run tests: engines.node and node-red.version', () => {
    assert.ok(semver.satisfies(process.version, PKG.engines.node), `engines.node ${PKG.engines.node} vs ${process.version}`);
    assert.ok(semver.satisfies(NODE_RED_VERSION, PKG['node-red'].version), `node-red.version ${PKG['node-red'].version} vs ${NODE_RED_VERSION}`);
  });

  it('Node-RED offers every shipped flow under Import > Examples', async () => {
    const res = await fetch(`${(red as NodeRedProcess).base}/library/examples/flows/${PKG.name}/`);
    assert.equal(res.status, 200);
    const listing = JSON.stringify(await res.json());
    for (const f of readdirSync(join(ROOT, 'flows'))) assert.ok(listing.includes(f.replace(/\.json$/, '')), `${f} missing from ${listing}`);
  });

  describe('the editor in headless Chromium', () => {
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    let types: string[] = [];

    before(async function () {
      if (!hasChromium()) this.skip();
      const base = (red as NodeRedProcess).base;
      types = (await nodeSets(base)).flatMap((s) => s.types);
      // The chat example as Import > Examples gives it, with the one thing a user sets: a GGUF model.
      const example = (await (await fetch(`${base}/library/examples/flows/${PKG.name}/llama-llm-chat`)).json()) as Array<Record<string, unknown>>;
      const tab = { id: 'chat-tab', type: 'tab', label: 'chat' };
      const flow = [tab, ...example.map((n) => ({ ...n, z: tab.id, ...(n.type === 'llama-llm' ? { modelPath: TINY_GGUF } : {}) }))];
      const deploy = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flow) });
      assert.equal(deploy.status, 204, await deploy.text());
      browser = await launchChromium();
      page = await openEditor(browser, base, pageErrors);
    });
    after(async () => {
      await browser?.close();
    });

    it('knows every node type of the package and shows each flow node in the palette, with no script errors', async () => {
      assert.ok(types.length >= Object.keys(PKG['node-red'].nodes).length);
      const shown = await page.evaluate((ts) => {
        const red = (window as unknown as { RED: { nodes: { getType(t: string): { category: string } | undefined } } }).RED;
        return ts.map((t) => {
          const def = red.nodes.getType(t);
          const inPalette = document.querySelectorAll(`.red-ui-palette-node[data-palette-type="${t}"]`).length;
          return [t, def ? (def.category === 'config' ? 'config' : inPalette) : 'unknown'];
        });
      }, types);
      assert.deepEqual(shown.filter(([, state]) => state !== 'config' && state !== 1), [], JSON.stringify(shown));
      assert.ok(shown.filter(([, state]) => state === 1).length >= 6, JSON.stringify(shown));
      assert.deepEqual(pageErrors, []);
    });

    it('lists the shipped flows in Import > Examples', async () => {
      const tree = await openExamples(page, PKG.name);
      const expected = readdirSync(join(ROOT, 'flows')).map((f) => f.replace(/\.json$/, ''));
      await page.waitForFunction(
        ([t, names]) => (names as string[]).every((n) => Array.from(document.querySelectorAll(`${t} .red-ui-treeList-label-text`)).some((l) => l.textContent === n)),
        [tree, expected] as const,
        { timeout: 30_000 },
      );
      await stopsSliding(page, tree);
      await clickTreeItem(page, tree, 'llama-llm-chat');
      await page.click('#red-ui-clipboard-dialog-cancel');
    });

    it('answers the chat example\'s typed question with the tiny GGUF: the reply in the debug sidebar, the same text as its chunks', async () => {
      const inject = (await (await fetch(`${(red as NodeRedProcess).base}/flows`)).json()) as Array<{ id: string; type: string; name?: string }>;
      const ask = inject.find((n) => n.type === 'inject' && n.name === 'ask');
      assert.ok(ask, 'the chat example has its "ask" inject');
      await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(tab: string): void } } }).RED.sidebar.show('debug'));
      await page.click(`[id="${ask.id}"] .red-ui-flow-node-button-button`);
      // Chunks (output 1, topic llm-chunk) and the full reply (output 2, llm-reply) go to "reply", the metrics to "latency".
      const messages = () =>
        page.evaluate(() =>
          Array.from(document.querySelectorAll('.red-ui-debug-msg')).map((m) => ({
            name: m.querySelector('.red-ui-debug-msg-name')?.textContent ?? '',
            topic: m.querySelector('.red-ui-debug-msg-topic')?.textContent ?? '',
            payload: (m.querySelector('.red-ui-debug-msg-payload') as HTMLElement | null)?.innerText ?? '',
          })),
        );
      // The full reply leaves after the last chunk.
      await page.waitForFunction(() => /llm-reply/.test(document.querySelector('.red-ui-debug-content')?.textContent ?? ''), undefined, { timeout: 60_000 });
      mkdirSync(join(ROOT, '.test-output'), { recursive: true });
      await page.screenshot({ path: join(ROOT, '.test-output', `palette-chat-node-red-${NODE_RED_VERSION.split('.')[0]}.png`) });
      const got = await messages();
      const of = (name: string, topic: string) => got.filter((m) => m.name.endsWith(name) && m.topic.startsWith(topic)).map((m) => m.payload.trim());
      // The sidebar shows each string in quotes, a newline as ↵, and a long one cut short with "...".
      const squash = (s: string) => s.replace(/^"|"$/g, '').replace(/\.\.\.$/, '').replace(/[\s↵]+/g, '');
      const [full] = of('reply', 'llm-reply').map(squash);
      const chunks = of('reply', 'llm-chunk').map(squash);
      // The last chunk only marks the turn's end: it is empty when the reply ended on a whole sentence.
      assert.ok(chunks.length >= 1 && chunks.slice(0, -1).every((c) => c.length > 0), JSON.stringify(got));
      assert.ok(full.length > 10 && chunks.join('').startsWith(full), JSON.stringify(got));
      assert.equal(of('latency', 'metrics').length, 1, JSON.stringify(got));
      assert.deepEqual(pageErrors, []);
      assert.doesNotMatch((red as NodeRedProcess).log(), /\[error\]/);
    });
  });

  // Last: it removes a package from the install.
  describe('npx realtime-voice doctor, from the installed package', () => {
    it('says plainly which native build is missing once npm has left one out', () => {
      const build = join(userDir, 'node_modules', `sherpa-onnx-${process.platform}-${process.arch}`);
      assert.ok(existsSync(join(build, 'package.json')), `${build} was installed`);
      rmSync(build, { recursive: true, force: true });
      const cli = join(userDir, 'node_modules', PKG.name, 'dist', 'bin', 'realtime-voice.js');
      const run = spawnSync(process.execPath, [cli, 'doctor'], { cwd: userDir, env: userEnv(userDir), encoding: 'utf8', timeout: 120_000 });
      assert.equal(run.status, 1, run.stdout + run.stderr);
      const line = run.stdout.split('\n').find((l) => l.startsWith('✗ engines') && l.includes('sherpa-onnx'));
      assert.equal(
        line,
        `✗ engines      sherpa-onnx (VAD, ASR, voiceprint): sherpa-onnx-${process.platform}-${process.arch}, its build for ${process.platform}-${process.arch}, is not installed (npm skipped it): run "npm install" again in ${userDir}`,
        run.stdout,
      );
    });
  });
});
