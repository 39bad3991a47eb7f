import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchSecuredNodeRed, type SecuredNodeRed } from '../support/admin-auth';
import { SHARED_MODELS } from '../support/paths';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { until } from '../support/wait';

/** Every HTTP endpoint the package adds, with the Node-RED permission it needs. */
const ENDPOINTS = [
  { method: 'GET', path: '/realtime-voice/asr-models', permission: 'asr.read' },
  { method: 'GET', path: '/realtime-voice/tts-voices', permission: 'piper-tts.read' },
  { method: 'GET', path: '/realtime-voice/llm-models', permission: 'llama-llm.read' },
  { method: 'GET', path: '/realtime-voice/audio-devices?backend=audify', permission: 'sound-card.read' },
  { method: 'GET', path: '/realtime-voice/voiceprints', permission: 'voiceprint.read' },
  { method: 'DELETE', path: '/realtime-voice/voiceprints/nobody', permission: 'voiceprint.write' },
];

/** A request with the path sent as it is (fetch and URL strings resolve "../" before sending). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, method, headers: { ...headers, ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve({ status: 0, text: err.code }) : reject(err)));
    req.end(body);
  });
}

/**
 * The package's admin endpoints in a real Node-RED with adminAuth on: each
 * needs a login with its own permission (read to list, write to delete), a
 * name in a URL is never a path, and oversized requests are refused before
 * they reach the package.
 */
describe('admin endpoints behind Node-RED admin auth (real Node-RED, dist build)', function () {
  this.timeout(120_000);
  let nr: SecuredNodeRed;
  let modelDir: string;
  let profiles: string;
  const fetchAs = async (user: string | undefined, method: string, path: string) =>
    (await fetch(`${nr.red.base}${path}`, { method, headers: user ? await nr.login(user) : {} })).status;

  before(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'rv-admin-model-'));
    const model = writeTinySpeakerModel(modelDir);
    const flows = [
      { id: 'f1', type: 'tab', label: 'voices' },
      { id: 'vp', z: 'f1', type: 'voiceprint', mode: 'tag', model, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), threshold: 0.6, wires: [[], []] },
    ];
    const store = { version: 1, model: 'tiny-speaker.onnx', profiles: Object.fromEntries(['alice', 'bob'].map((n, i) => [n, { embedding: [i, 1 - i], samples: 1, updated: '2026-01-01T00:00:00.000Z' }])) };
    const users = {
      admin: '*',
      viewer: 'read',
      'flows-only': ['flows.read'],
      ...Object.fromEntries(ENDPOINTS.map((e) => [`only-${e.permission}`, [e.permission]])),
    };
    nr = await launchSecuredNodeRed(users, { 'flows.json': JSON.stringify(flows), 'realtime-voice/voiceprints.json': JSON.stringify(store) }, { ...process.env, VOICE_MODELS_DIR: modelDir });
    profiles = join(nr.userDir, 'realtime-voice', 'voiceprints.json');
    const admin = await nr.login('admin');
    await until(() => nr.red.log().includes('Started flows'), 30_000, 'the flow to start');
    const list = (await (await fetch(`${nr.red.base}/realtime-voice/voiceprints`, { headers: admin })).json()) as { deployed: boolean };
    assert.ok(list.deployed, `the voiceprint node is deployed:\n${nr.red.log()}`);
  });

  after(async () => {
    await nr?.stop();
    rmSync(modelDir, { recursive: true, force: true });
  });

  it('refuses every endpoint without a login, with a forged token, and to a user without the package\'s permissions (401)', async () => {
    for (const e of ENDPOINTS) {
      assert.equal(await fetchAs(undefined, e.method, e.path), 401, `${e.method} ${e.path} without a login`);
      assert.equal((await fetch(`${nr.red.base}${e.path}`, { method: e.method, headers: { Authorization: 'Bearer forged' } })).status, 401, `${e.path} forged token`);
      assert.equal(await fetchAs('flows-only', e.method, e.path), 401, `${e.method} ${e.path} as a user who may only read flows`);
    }
  });

  it('each endpoint needs exactly its own permission: a user holding only it gets in, one holding another is refused', async () => {
    for (const e of ENDPOINTS) {
      for (const other of ENDPOINTS) {
        const status = await fetchAs(`only-${other.permission}`, e.method, e.path);
        if (other.permission === e.permission) assert.notEqual(status, 401, `${e.method} ${e.path} as a user with ${e.permission}`);
        else assert.equal(status, 401, `${e.method} ${e.path} as a user with only ${other.permission}`);
      }
    }
  });

  it('lists for a read-only user and an admin (200)', async () => {
    for (const user of ['viewer', 'admin']) {
      for (const e of ENDPOINTS.filter((x) => x.method === 'GET')) assert.equal(await fetchAs(user, 'GET', e.path), 200, `${e.path} as ${user}`);
    }
    const list = (await (await fetch(`${nr.red.base}/realtime-voice/voiceprints`, { headers: await nr.login('viewer') })).json()) as { names: string[] };
    assert.deepEqual(list.names, ['alice', 'bob']);
  });

  it('a read-only user cannot delete a voice: Node-RED answers 401 (its answer for a missing permission) and audits it; the voice stays', async () => {
    const before = readFileSync(profiles, 'utf8');
    assert.equal(await fetchAs('viewer', 'DELETE', '/realtime-voice/voiceprints/alice'), 401);
    await until(() => /permission\.fail.*voiceprint\.write/.test(nr.red.log()), 5000, 'the audit line for the refused permission');
    assert.equal(readFileSync(profiles, 'utf8'), before);
  });

  it('a name in the URL is never a path: "..", encoded slashes and absolute paths are unknown names (404) or no route (404); nothing outside is touched', async () => {
    const admin = await nr.login('admin');
    const settings = readFileSync(join(nr.userDir, 'settings.js'), 'utf8');
    for (const path of ['..', '..%2F..%2Fsettings.js', '%2Fetc%2Fpasswd', '..%5C..%5Csettings.js', '%2E%2E', 'voiceprints.json']) {
      const res = await raw(nr.red.base, 'DELETE', `/realtime-voice/voiceprints/${path}`, admin);
      assert.equal(res.status, 404, `${path}: ${res.text}`);
      assert.equal((JSON.parse(res.text) as { code: string }).code, 'UNKNOWN_NAME', path);
    }
    for (const path of ['../../settings.js', '../voiceprints', '/../../../etc/passwd']) {
      assert.equal((await raw(nr.red.base, 'DELETE', `/realtime-voice/voiceprints/${path}`, admin)).status, 404, path);
    }
    assert.equal(readFileSync(join(nr.userDir, 'settings.js'), 'utf8'), settings);
    // The model and voice lists take no input: a path in the query changes nothing.
    for (const e of ENDPOINTS.filter((x) => x.method === 'GET' && !x.path.includes('audio-devices'))) {
      const plain = await (await fetch(`${nr.red.base}${e.path}`, { headers: admin })).text();
      const sep = e.path.includes('?') ? '&' : '?';
      const probed = await (await fetch(`${nr.red.base}${e.path}${sep}dir=..%2F..%2Fetc&path=%2Fetc%2Fpasswd&modelsDir=%2F`, { headers: admin })).text();
      assert.equal(probed, plain, e.path);
    }
    const traversal = await raw(nr.red.base, 'GET', '/realtime-voice/audio-devices?backend=..%2F..%2Fetc%2Fpasswd', admin);
    assert.equal(traversal.status, 400);
    assert.match((JSON.parse(traversal.text) as { error: string }).error, /^unknown backend "\.\.\/\.\.\/etc\/passwd" \(one of: audify/);
  });

  it('refuses oversized requests: a 20 KB URL (431), a 6 MB body (413), a name over 100 characters (400), a long or repeated backend (400, short answer)', async () => {
    const admin = await nr.login('admin');
    for (const e of ENDPOINTS) {
      const sep = e.path.includes('?') ? '&' : '?';
      assert.equal((await raw(nr.red.base, e.method, `${e.path}${sep}x=${'a'.repeat(20_000)}`, admin)).status, 431, `${e.path} with a 20 KB URL`);
      const big = Buffer.from(JSON.stringify({ x: 'a'.repeat(6 * 1024 * 1024) }));
      const res = await raw(nr.red.base, e.method, e.path, admin, big);
      assert.ok(res.status === 413 || res.status === 0, `${e.path} with a 6 MB body: ${res.status}`);
    }
    for (const length of [101, 10_000]) {
      const res = await raw(nr.red.base, 'DELETE', `/realtime-voice/voiceprints/${'a'.repeat(length)}`, admin);
      assert.equal(res.status, 400, `a ${length}-character name`);
      assert.match(res.text, /at most 100 characters.*"code":"BAD_NAME"/);
    }
    for (const query of [`backend=${'a'.repeat(10_000)}`, 'backend=audify&backend=alsa', 'backend[x]=audify']) {
      const res = await raw(nr.red.base, 'GET', `/realtime-voice/audio-devices?${query}`, admin);
      assert.equal(res.status, 400, query.slice(0, 40));
      assert.ok(res.text.length < 300, `the answer stays short (${res.text.length} bytes)`);
    }
  });

  it('an admin deletes a voice (200): gone from the list and the file; deleting it again is 404 naming the voices left', async () => {
    const admin = await nr.login('admin');
    const del = await fetch(`${nr.red.base}/realtime-voice/voiceprints/alice`, { method: 'DELETE', headers: admin });
    assert.equal(del.status, 200);
    assert.deepEqual(((await del.json()) as { names: string[] }).names, ['bob']);
    assert.deepEqual(Object.keys((JSON.parse(readFileSync(profiles, 'utf8')) as { profiles: object }).profiles), ['bob']);
    const again = await fetch(`${nr.red.base}/realtime-voice/voiceprints/alice`, { method: 'DELETE', headers: admin });
    assert.equal(again.status, 404);
    assert.match(((await again.json()) as { error: string }).error, /no voice named "alice" \(enrolled: bob\)/);
  });
});
