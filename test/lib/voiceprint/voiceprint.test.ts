import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavMono } from '../../../lib/audio/wav';
import { EngineHost } from '../../../lib/engine/host';
import { ProfileStore } from '../../../lib/voiceprint/profile-store';
import { cosine } from '../../../lib/voiceprint/vectors';
import { TESTDATA } from '../../support/paths';
import { writeTinySpeakerModel } from '../../support/tiny-speaker-model';
import { TEST_VAD } from '../../support/vad';

const ENGINE = require.resolve('../../../lib/voiceprint/voiceprint-engine');
const vad = TEST_VAD;
const clip = async (name: string) => (await readWavMono(join(TESTDATA, `${name}.wav`))).samples;

describe('voiceprint engine (sherpa-onnx extractor on a tiny model, in a worker)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-vp-'));
  const model = writeTinySpeakerModel(dir);
  let host: EngineHost;
  before(async () => {
    host = new EngineHost({ modulePath: ENGINE, name: 'voiceprint', options: { model, vad, decisionSeconds: 0.5 } });
    await host.start();
  });
  after(async () => {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores same-speaker pairs above different-speaker pairs (MANIFEST pairs)', async () => {
    const aew1 = await host.call<number[]>('enrol', await clip('arctic_aew_a0001'));
    const aew2 = await host.call<number[]>('enrol', await clip('arctic_aew_a0002'));
    const axb = await host.call<number[]>('enrol', await clip('arctic_axb_a0004'));
    assert.ok(cosine(aew1, aew2) > cosine(aew1, axb), `same ${cosine(aew1, aew2).toFixed(3)} vs different ${cosine(aew1, axb).toFixed(3)}`);
  });

  it('refuses to enrol silence or less than 1 s of speech, saying why', async () => {
    await assert.rejects(host.call('enrol', new Float32Array(32000)), { code: 'NO_SPEECH' });
    const short = await clip('arctic_axb_a0005');
    const half = new Float32Array(16000 + 8000);
    half.set(short.subarray(4000, 4000 + 8000), 8000);
    await assert.rejects(host.call('enrol', half), { code: 'TOO_SHORT', message: /enrolment needs at least 1 s/ });
  });

  it('decides 0.5 s into speech, before the utterance ends', async () => {
    const speech = await clip('arctic_aew_a0001');
    const audio = new Float32Array(16000 + speech.length + 16000);
    audio.set(speech, 16000);
    const events: { type: string; heardMs?: number }[] = [];
    for (let i = 0; i < audio.length; i += 320) events.push(...(await host.call<{ type: string }[]>('audio', audio.slice(i, i + 320))));
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'decision', 'speech-end'],
    );
    assert.ok(Math.abs(events[1].heardMs! - 500) < 40, `decided after ${events[1].heardMs} ms of speech`);
  });

  it('reports a missing model instead of crashing', async () => {
    const broken = new EngineHost({ modulePath: ENGINE, name: 'voiceprint', options: { model: join(dir, 'none.onnx'), vad, decisionSeconds: 0.5 } });
    await assert.rejects(broken.start(), { code: 'MODEL_MISSING' });
    await broken.close();
  });
});

describe('ProfileStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-store-'));
  const file = join(dir, 'voiceprints.json');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('averages samples, persists across instances, deletes, and names unknown voices', () => {
    const a = new ProfileStore(file, 'm1');
    a.enrol('alice', [1, 0, 0]);
    a.enrol('alice', [0, 1, 0]);
    a.enrol('bob', [0, 0, 1]);
    const b = new ProfileStore(file, 'm1');
    assert.deepEqual(b.names(), ['alice', 'bob']);
    assert.equal(b.best([1, 1, 0])?.name, 'alice');
    assert.ok(Math.abs(b.best([1, 1, 0])!.score - 1) < 1e-9);
    assert.equal(b.best([1, 1, 0], (n) => n !== 'alice')?.name, 'bob');
    b.remove('bob');
    assert.throws(() => b.remove('carol'), { code: 'UNKNOWN_NAME', message: /no voice named "carol" \(enrolled: alice\)/ });
    assert.deepEqual(new ProfileStore(file, 'm1').names(), ['alice']);
  });

  it('moves a corrupt file aside and starts empty, with a reason', () => {
    writeFileSync(file, '{ not json');
    const s = new ProfileStore(file, 'm1');
    assert.deepEqual(s.names(), []);
    assert.match(s.problem!, /unreadable.*moved to/);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('voiceprints.json.corrupt-')));
    assert.ok(!existsSync(file));
  });

  it('does not compare voices made by another model', () => {
    new ProfileStore(file, 'm1').enrol('alice', [1, 0]);
    const other = new ProfileStore(file, 'm2');
    assert.deepEqual(other.names(), []);
    assert.match(other.problem!, /another model \(m1\)/);
  });
});
