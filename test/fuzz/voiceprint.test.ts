import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import voiceprintNode from '../../nodes/voiceprint/voiceprint';
import { audioNodeRefuses, audioNodeStepArb, speechFrames } from '../support/fuzz-audio';
import { fuzzParams, guardProcess } from '../support/fuzz-guard';
import { validControl, type Msg } from '../support/fuzz-messages';
import { fuzzFlow, ready, Traffic } from '../support/fuzz-runtime';
import { SHARED_MODELS } from '../support/paths';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { until } from '../support/wait';
import { clip } from '../lib/vad/clips';

helper.init(require.resolve('node-red'));

describe('fuzz: voiceprint (tag mode, tiny speaker model, real Node-RED runtime)', function () {
  this.timeout(120_000);
  const guard = guardProcess();
  const dir = mkdtempSync(join(tmpdir(), 'rv-fuzz-vp-'));
  const model = writeTinySpeakerModel(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  it('every message settles as the contract says, every frame taken passes on in order, and after any sequence speech and a flush pass', async () => {
    helper.settings({ userDir: mkdtempSync(join(dir, 'userdir-')) });
    const speech = speechFrames(await clip('arctic_aew_a0001'));
    await helper.load(voiceprintNode, fuzzFlow({ id: 'vp', type: 'voiceprint', mode: 'tag', model, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx') }, 2));
    await ready('vp', 30_000);
    const traffic = new Traffic('vp');
    await fc.assert(
      fc.asyncProperty(fc.array(audioNodeStepArb(['t-a', 't-b']), { maxLength: 20 }), async (msgs) => {
        const first = traffic.received;
        const firstSent = traffic.sent.length;
        for (const msg of msgs) traffic.receive(msg);
        for (const frame of speech) traffic.receive(frame);
        traffic.receive({ flush: true });
        const ns = traffic.since(first);
        await traffic.allSettled(ns, 30_000);
        traffic.assertVerdicts(ns, audioNodeRefuses);
        // Tag mode holds nothing back: every frame and flush taken (msg.flush or a control flush) leaves, in the order it came.
        const passes = (m: Msg) => m.control == null || validControl(m)?.type === 'flush';
        const taken = ns.filter((n) => traffic.settled.get(n)?.[0].error === undefined && passes(traffic.inputs[n]));
        await until(() => traffic.sent.length - firstSent >= taken.length, 10_000, 'every frame taken to pass on');
        const passed = traffic.sent.slice(firstSent).filter((s) => s.port === 0).map((s) => s.msg._fuzz);
        assert.deepEqual(passed, taken);
        guard.check();
      }),
      fuzzParams(10),
    );
  });
});
