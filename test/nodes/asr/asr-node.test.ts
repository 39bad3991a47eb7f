import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeControl } from '../../../lib/control/protocol';
import { float32ToS16le } from '../../../lib/audio/pcm';
import { resample } from '../../../lib/audio/resample';
import { readWavMono } from '../../../lib/audio/wav';
import asrNode from '../../../nodes/asr/asr';
import { collect, nextMessage } from '../../support/node-red';
import { SHARED_MODELS, TESTDATA } from '../../support/paths';
import { writeTinyAsrModel, writeTinyStreamingAsrModel } from '../../support/tiny-asr-model';

helper.init(require.resolve('node-red'));

type Msg = Record<string, unknown> & { payload?: unknown; turnId?: string; control?: { type: string; turnId: string } };

function flow(modelDir: string, extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'rec', z: 'f1', type: 'asr', name: 'listener', modelDir, vadModel: join(SHARED_MODELS, 'vad', 'silero_vad.onnx'), ...extra, wires: [['text'], ['control'], ['metrics']] },
    { id: 'text', z: 'f1', type: 'helper' },
    { id: 'control', z: 'f1', type: 'helper' },
    { id: 'metrics', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** A clip as 20 ms stereo frames at another device rate, with silence around it. */
async function frames(clip: string, rate: number, channels = 1): Promise<Msg[]> {
  const { samples } = await readWavMono(join(TESTDATA, `${clip}.wav`));
  const padded = new Float32Array(16000 + samples.length + 16000);
  padded.set(samples, 16000);
  const atRate = resample(padded, 16000, rate);
  const n = Math.round(rate / 50);
  const out: Msg[] = [];
  for (let i = 0; i + n <= atRate.length; i += n) {
    const mono = atRate.subarray(i, i + n);
    const inter = new Float32Array(n * channels);
    for (let k = 0; k < n; k++) for (let c = 0; c < channels; c++) inter[k * channels + c] = mono[k];
    out.push({ topic: 'audio', payload: float32ToS16le(inter), audio: { sampleRate: rate, channels, format: 's16le' }, speaker: { name: 'alice', score: 0.8 } });
  }
  return out;
}

async function play(msgs: Msg[]): Promise<void> {
  const asr = helper.getNode('rec');
  for (const m of msgs) asr.receive(m as never);
  asr.receive({ flush: true } as never);
}

describe('asr node (real runtime, real VAD, tiny recogniser)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-asr-node-'));
  const model = writeTinyAsrModel(dir);
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  for (const [rate, channels] of [
    [16000, 1],
    [48000, 2],
    [44100, 1],
    [8000, 1],
  ] as const) {
    it(`turns ${rate / 1000} kHz ${channels === 2 ? 'stereo' : 'mono'} speech into speech-start, speech-end and a recognised utterance of one turn`, async () => {
      await helper.load(asrNode, flow(model));
      const controls = collect<Msg>('control');
      const transcripts = collect<Msg>('text');
      const metrics = nextMessage<{ stage: string; turnId: string; payload: { speech_ms: number } }>('metrics');
      await play(await frames('arctic_aew_a0001', rate, channels));
      const m = await metrics; // sent for every finished utterance, after its transcript
      assert.equal(m.stage, 'asr');
      assert.ok(Math.abs(m.payload.speech_ms - 3530) < 300, `speech of ${m.payload.speech_ms} ms`);
      assert.deepEqual(
        controls.map((c) => c.control!.type),
        ['speech-start', 'speech-end'],
      );
      assert.equal(m.turnId, controls[0].turnId, 'the utterance belongs to the turn speech-start opened');
      // The tiny model's loudness rule needs the band above 4 kHz: 8 kHz audio checks the VAD path only.
      if (rate === 8000) return;
      const [t] = transcripts;
      assert.equal(t.partial, false);
      assert.match(t.payload as string, /^s+$/);
      assert.equal(t.turnId, controls[0].turnId);
      assert.deepEqual(t.speaker, { name: 'alice', score: 0.8 });
      const timings = t.timings as { speechStart: number; speechEnd: number; recognitionMs: number };
      assert.ok(Math.abs(timings.speechEnd - timings.speechStart - 3530) < 300, `speech of ${timings.speechEnd - timings.speechStart} ms`);
    });
  }

  it('sends partial transcripts of the turn while the user speaks (streaming model)', async () => {
    await helper.load(asrNode, flow(writeTinyStreamingAsrModel(dir)));
    const controls = collect<Msg>('control');
    const transcripts = collect<Msg>('text');
    const metrics = nextMessage('metrics');
    await play(await frames('arctic_aew_a0001', 16000));
    await metrics;
    const partials = transcripts.filter((t) => t.partial);
    const finals = transcripts.filter((t) => !t.partial);
    assert.ok(partials.length >= 3, `${partials.length} partials`);
    assert.equal(finals.length, 1);
    assert.ok(transcripts.indexOf(finals[0]) === transcripts.length - 1, 'the final comes last');
    assert.ok(transcripts.every((t) => t.turnId === controls[0].turnId));
  });

  it('holds audio back while the LLM evaluates its prompt, then catches up', async () => {
    await helper.load(asrNode, flow(model, { pauseDuringPrefill: true }));
    const controls = collect<Msg>('control');
    const asr = helper.getNode('rec');
    asr.receive(makeControl('pause', 't-llm', { source: 'llama-llm' }) as never);
    await play(await frames('arctic_axb_a0005', 16000));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(controls.length, 0, 'nothing decoded while paused');
    const transcript = nextMessage<Msg>('text');
    asr.receive(makeControl('resume', 't-llm', { source: 'llama-llm' }) as never);
    asr.receive({ flush: true } as never);
    assert.match((await transcript).payload as string, /^s+$/);
    assert.deepEqual(
      controls.map((c) => c.control!.type),
      ['speech-start', 'speech-end'],
    );
  });

  it('refuses malformed frames on the Catch node and keeps listening', async () => {
    await helper.load(asrNode, flow(model));
    const asr = helper.getNode('rec');
    let caught = nextMessage<{ error: { message: string } }>('caught');
    asr.receive({ payload: Buffer.alloc(641), audio: { sampleRate: 16000, channels: 1, format: 's16le' } } as never);
    assert.match((await caught).error.message, /641 bytes/);
    caught = nextMessage('caught');
    asr.receive({ payload: Buffer.alloc(640) } as never);
    assert.match((await caught).error.message, /msg\.audio is missing/);
    const transcript = nextMessage<Msg>('text');
    await play(await frames('arctic_axb_a0005', 16000));
    assert.match((await transcript).payload as string, /^s+$/);
  });

  it('names a missing model file in its status', async () => {
    await helper.load(asrNode, flow(join(dir, 'nowhere')));
    const caught = nextMessage<{ error: { message: string } }>('caught');
    helper.getNode('rec').receive({ payload: Buffer.alloc(640), audio: { sampleRate: 16000, channels: 1, format: 's16le' } } as never);
    assert.match((await caught).error.message, /model folder not found/);
    const status = (helper.getNode('rec').status as unknown as { lastCall: { args: [{ text: string }] } }).lastCall.args[0];
    assert.equal(status.text, 'model missing');
  });
});
