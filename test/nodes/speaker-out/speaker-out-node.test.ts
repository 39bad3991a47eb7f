import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToInt16, int16ToBuffer } from '../../../lib/audio/pcm';
import { resample } from '../../../lib/audio/resample';
import { parseWav, readWavMono } from '../../../lib/audio/wav';
import { makeControl, type ControlPayload } from '../../../lib/messages/control';
import soundCard from '../../../nodes/sound-card/sound-card';
import speakerOut from '../../../nodes/speaker-out/speaker-out';
import { collect } from '../../support/node-red';
import { TESTDATA } from '../../support/paths';
import { findInRecording, loudSpan, tone } from '../../support/signal';
import { recordSpeaker, useVirtualCard, VIRTUAL_SPEAKER } from '../../support/virtual-card';
import { sleep, until } from '../../support/wait';

helper.init(require.resolve('node-red'));

type Control = { control: ControlPayload };

function flow(speaker: Record<string, unknown>, extra: Record<string, unknown>[] = []): never {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'spk', z: 'f1', type: 'speaker-out', name: 'speaker', wires: [['control'], ['metrics']], ...speaker },
    { id: 'metrics', z: 'f1', type: 'helper' },
    { id: 'control', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
    ...extra,
  ] as never;
}


/** Sends audio as piper-tts does: 20 ms frames with the sentence text, the reply's last frame marked complete. */
function sendSentences(sentences: Array<{ text: string; samples: Int16Array }>, rate: number, turnId: string, complete = true, room?: string): void {
  const node = helper.getNode('spk');
  const step = Math.round(rate * 0.02);
  sentences.forEach((s, si) => {
    for (let at = 0; at < s.samples.length; at += step) {
      const last = si === sentences.length - 1 && at + step >= s.samples.length;
      node.receive({ topic: 'audio', payload: int16ToBuffer(s.samples.slice(at, at + step)), audio: { sampleRate: rate, channels: 1, format: 's16le' }, turnId, text: s.text, complete: complete && last, ...(room ? { room } : {}) } as never);
    }
  });
}

const types = (msgs: Control[]) => msgs.map((m) => m.control.type);

describe('speaker-out node (real Node-RED runtime)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-spk-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  it('plays 22.05 kHz frames into a 16 kHz WAV file intact, with tts-start, tts-end and metrics', async () => {
    const wav = await readWavMono(join(TESTDATA, 'arctic_aew_a0001.wav'));
    const at22 = float32ToInt16(resample(wav.samples, 16000, 22050));
    const out = join(dir, 'played.wav');
    await helper.load(speakerOut, flow({ sink: 'wav', wavPath: out, wavRate: 16000 }));
    const control = collect<Control>('control');
    const metrics = collect<{ stage: string; payload: { played_ms: number; cut: boolean } }>('metrics');
    sendSentences([{ text: 'Author of the danger trail.', samples: at22 }], 22050, 't-1');
    await until(() => control.length === 2, 10_000, 'tts-end');
    assert.deepEqual(types(control), ['tts-start', 'tts-end']);
    const end = control[1].control;
    assert.equal(end.cut, false);
    assert.equal(end.spokenText, 'Author of the danger trail.');
    assert.ok(Math.abs((end.playedMs ?? 0) - (wav.samples.length / 16000) * 1000) < 30, `playedMs ${end.playedMs}`);
    assert.equal(metrics[0].stage, 'speaker');
    assert.equal(metrics[0].payload.cut, false);
    const file = parseWav(readFileSync(out));
    assert.equal(file.sampleRate, 16000);
    const found = findInRecording(float32ToInt16(file.samples), float32ToInt16(wav.samples));
    assert.ok(found.correlation > 0.99, `correlation ${found.correlation}`);
  });

  it('stops on interrupt, reports what was heard, and drops the turn\'s late frames', async () => {
    const out = join(dir, 'cut.wav');
    await helper.load(speakerOut, flow({ sink: 'wav', wavPath: out, wavRate: 16000 }));
    const control = collect<Control>('control');
    const first = { text: 'The lights are on.', samples: tone(16000, 0.5, 300) };
    const second = { text: 'I also closed the blinds in the living room.', samples: tone(16000, 2, 500) };
    sendSentences([first, second], 16000, 't-cut');
    await until(() => control.length === 1, 5000, 'tts-start');
    await sleep(1000);
    helper.getNode('spk').receive(makeControl('interrupt', 't-cut', { reason: 'barge-in' }) as never);
    await until(() => control.length === 2, 1000, 'tts-end');
    const end = control[1].control;
    assert.equal(end.type, 'tts-end');
    assert.equal(end.cut, true);
    assert.ok((end.playedMs ?? 0) > 900 && (end.playedMs ?? 0) < 1200, `playedMs ${end.playedMs}`);
    // 0.5 s of the first sentence, then about a quarter of the second one's words.
    assert.match(end.spokenText ?? '', /^The lights are on\. I also( closed)?( the)?$/);
    sendSentences([{ text: 'late', samples: tone(16000, 0.5) }], 16000, 't-cut');
    await sleep(700);
    assert.equal(control.length, 2, 'late frames of a cancelled turn are not played');
    const heard = loudSpan(float32ToInt16(parseWav(readFileSync(out)).samples));
    assert.ok(heard / 16 < (end.playedMs ?? 0) + 50, `the file holds ${heard / 16} ms`);
  });

  it('a barge-in (speech-start of a new turn) cuts every other turn', async () => {
    await helper.load(speakerOut, flow({ sink: 'wav', wavPath: join(dir, 'barge.wav') }));
    const control = collect<Control>('control');
    sendSentences([{ text: 'A long answer.', samples: tone(16000, 2) }], 16000, 't-old');
    await until(() => control.length === 1, 5000, 'tts-start');
    helper.getNode('spk').receive(makeControl('speech-start', 't-user') as never);
    await until(() => control.length === 2, 1000, 'tts-end');
    assert.equal(control[1].control.turnId, 't-old');
    assert.equal(control[1].control.cut, true);
  });

  it('a barge-in in another room leaves the turn playing; one in its own room cuts it', async () => {
    await helper.load(speakerOut, flow({ sink: 'wav', wavPath: join(dir, 'rooms.wav') }));
    const control = collect<Control>('control');
    sendSentences([{ text: 'The lounge answer.', samples: tone(16000, 1.5) }], 16000, 't-lounge', true, 'lounge');
    await until(() => control.length === 1, 5000, 'tts-start');
    helper.getNode('spk').receive(makeControl('speech-start', 't-kitchen-user', { room: 'kitchen' }) as never);
    helper.getNode('spk').receive({ ...makeControl('interrupt', '*'), room: 'kitchen' } as never);
    await sleep(300);
    assert.equal(control.length, 1, 'the kitchen cuts nothing in the lounge');
    helper.getNode('spk').receive(makeControl('speech-start', 't-lounge-user', { room: 'lounge' }) as never);
    await until(() => control.length === 2, 1000, 'tts-end');
    assert.equal(control[1].control.turnId, 't-lounge');
    assert.equal(control[1].control.cut, true);
  });

  it('refuses bad frames with a catchable error and plays the good ones after them', async () => {
    await helper.load(speakerOut, flow({ sink: 'wav', wavPath: join(dir, 'bad.wav') }));
    const spk = helper.getNode('spk');
    const caught = collect<{ error: { message: string; code?: string } }>('caught');
    const control = collect<Control>('control');
    spk.receive({ payload: Buffer.alloc(641), audio: { sampleRate: 16000, channels: 1, format: 's16le' } } as never);
    spk.receive({ payload: Buffer.alloc(640) } as never);
    spk.receive({ payload: Buffer.alloc(640), audio: { sampleRate: 1234, channels: 1, format: 's16le' } } as never);
    spk.receive({ payload: 'hello', audio: { sampleRate: 16000, channels: 1, format: 's16le' } } as never);
    spk.receive({ control: { v: 9, type: 'interrupt', turnId: 'x', ts: Date.now() } } as never);
    await until(() => caught.length === 5, 2000, 'five errors');
    assert.match(caught[0].error.message, /not a multiple of 2/);
    assert.match(caught[1].error.message, /msg.audio is missing/);
    assert.match(caught[2].error.message, /sampleRate is 1234/);
    assert.match(caught[3].error.message, /msg.payload is string/);
    assert.match(caught[4].error.message, /this node speaks version 1/);
    sendSentences([{ text: 'fine', samples: tone(16000, 0.2) }], 16000, 't-ok');
    await until(() => control.length === 2, 3000, 'the good turn to play');
    assert.equal(control[1].control.cut, false);
  });

  it('says so when it has no sound card', async () => {
    await helper.load(speakerOut, flow({ sink: 'device', card: '' }));
    const status = (helper.getNode('spk').status as unknown as { lastCall: { args: [{ text?: string }] } }).lastCall.args[0];
    assert.equal(status.text, 'no sound card');
  });

  describe('on the virtual sound card', () => {
    useVirtualCard();
    const card = { id: 'card16', type: 'sound-card', backend: 'audify', input: '', output: VIRTUAL_SPEAKER, sampleRate: 16000, frameMs: 20 };

    it('plays frames to the device intact', async () => {
      const wav = await readWavMono(join(TESTDATA, 'arctic_aew_a0002.wav'));
      const clip = float32ToInt16(wav.samples);
      await helper.load([speakerOut, soundCard], flow({ sink: 'device', card: 'card16' }, [card]));
      const control = collect<Control>('control');
      const recorder = recordSpeaker();
      await sleep(300);
      sendSentences([{ text: 'x', samples: clip }], 16000, 't-dev');
      await until(() => control.length === 2, 15_000, 'tts-end');
      await sleep(500);
      const found = findInRecording(await recorder.stop(), clip);
      assert.ok(found.correlation > 0.99, `correlation ${found.correlation.toFixed(4)}`);
    });

    it('survives a redeploy while playing: the old turn is cut, the new flow plays', async () => {
      await helper.load([speakerOut, soundCard], flow({ sink: 'device', card: 'card16' }, [card]));
      const first = collect<Control>('control');
      sendSentences([{ text: 'x', samples: tone(16000, 3) }], 16000, 't-a');
      await until(() => first.length === 1, 5000, 'tts-start');
      await helper.setFlows(flow({ sink: 'device', card: 'card16', name: 'renamed' }, [card]) as never, 'full' as never);
      await sleep(200);
      const second = collect<Control>('control');
      sendSentences([{ text: 'y', samples: tone(16000, 0.3) }], 16000, 't-b');
      await until(() => second.length === 2, 10_000, 'the new flow to play');
      assert.equal(second[1].control.cut, false);
    });
  });
});
