import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import asrNode from '../../nodes/asr/asr';
import { audioNodeRefuses, audioNodeStepArb, speechFrames } from '../support/fuzz-audio';
import { fuzzParams, guardProcess } from '../support/fuzz-guard';
import { fuzzFlow, ready, Traffic } from '../support/fuzz-runtime';
import { SHARED_MODELS } from '../support/paths';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { until } from '../support/wait';
import { clip } from '../lib/vad/clips';

helper.init(require.resolve('node-red'));

describe('fuzz: asr (real VAD, tiny recogniser, real Node-RED runtime)', function () {
  this.timeout(120_000);
  const guard = guardProcess();
  const dir = mkdtempSync(join(tmpdir(), 'rv-fuzz-asr-'));
  const model = writeTinyAsrModel(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  it('every message settles as the contract says, and after any sequence real speech still starts a turn (speech-start, speech-end)', async () => {
    const speech = speechFrames(await clip('arctic_aew_a0001'));
    await helper.load(asrNode, fuzzFlow({ id: 'rec', type: 'asr', modelDir: model, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), pauseDuringPrefill: true }, 3));
    await ready('rec', 30_000);
    const traffic = new Traffic('rec');
    await fc.assert(
      fc.asyncProperty(fc.array(audioNodeStepArb(['t-a', 't-b']), { maxLength: 20 }), async (msgs) => {
        const first = traffic.received;
        for (const msg of msgs) traffic.receive(msg);
        // Never stalls: the recording ends, recognition resumes (a pause may be pending), and real speech is heard.
        traffic.receive({ topic: 'control', turnId: 't-x', control: { v: 1, type: 'resume', turnId: 't-x', ts: Date.now() } });
        traffic.receive({ flush: true });
        const from = traffic.processedAt[traffic.received - 1];
        for (const frame of speech) traffic.receive(frame);
        traffic.receive({ flush: true });
        const ns = traffic.since(first);
        await traffic.allSettled(ns, 30_000);
        traffic.assertVerdicts(ns, audioNodeRefuses);
        const heard = (type: string) => traffic.sent.some((s) => s.at > from && s.port === 1 && (s.msg.control as { type?: string }).type === type);
        await until(() => heard('speech-end'), 10_000, 'speech-end of the real speech');
        assert.ok(heard('speech-start'));
        guard.check();
      }),
      fuzzParams(10),
    );
  });
});
