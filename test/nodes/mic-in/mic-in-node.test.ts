import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToInt16 } from '../../../lib/audio/pcm';
import { resample } from '../../../lib/audio/resample';
import { encodeWav, readWavMono } from '../../../lib/audio/wav';
import { makeControl } from '../../../lib/messages/control';
import micIn from '../../../nodes/mic-in/mic-in';
import soundCard from '../../../nodes/sound-card/sound-card';
import { collect, lastStatus, samplesOf } from '../../support/node-red';
import { TESTDATA } from '../../support/paths';
import { findInRecording } from '../../support/signal';
import { playIntoMic, useVirtualCard, VIRTUAL_MIC } from '../../support/virtual-card';
import { sleep, until } from '../../support/wait';

helper.init(require.resolve('node-red'));

type Frame = { payload?: Buffer; audio: { sampleRate: number; channels: number }; flush?: boolean };
const CLIP = join(TESTDATA, 'arctic_aew_a0001.wav');

function flow(mic: Record<string, unknown>, extra: Record<string, unknown>[] = []): never {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'mic', z: 'f1', type: 'mic-in', name: 'microphone', frameMs: 20, wires: [['frames']], ...mic },
    { id: 'frames', z: 'f1', type: 'helper' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
    ...extra,
  ] as never;
}



describe('mic-in node (real Node-RED runtime)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-mic-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  it('plays a 16 kHz WAV file as 20 ms frames, exactly, then marks the end of the recording', async () => {
    const wav = await readWavMono(CLIP);
    assert.equal(wav.sampleRate, 16000);
    await helper.load(micIn, flow({ source: 'wav', wavPath: CLIP, pace: 'fast' }));
    const frames = collect<Frame>('frames');
    await until(() => frames.some((f) => f.flush), 10_000, 'the end of the file');
    const audio = frames.filter((f) => f.payload);
    assert.ok(audio.slice(0, -1).every((f) => f.payload?.length === 640 && f.audio.sampleRate === 16000 && f.audio.channels === 1));
    assert.deepEqual(samplesOf(frames), float32ToInt16(wav.samples));
    assert.equal(frames[frames.length - 1].flush, true);
  });

  it('converts a 44.1 kHz stereo file to 16 kHz mono', async () => {
    const wav = await readWavMono(CLIP);
    const hi = resample(wav.samples, 16000, 44100);
    const stereo = new Float32Array(hi.length * 2);
    for (let i = 0; i < hi.length; i++) stereo[2 * i] = stereo[2 * i + 1] = hi[i];
    const path = join(dir, 'stereo-44k.wav');
    writeFileSync(path, encodeWav(stereo, 44100, 2));
    await helper.load(micIn, flow({ source: 'wav', wavPath: path, pace: 'fast' }));
    const frames = collect<Frame>('frames');
    await until(() => frames.some((f) => f.flush), 10_000, 'the end of the file');
    assert.ok(frames.every((f) => f.audio.sampleRate === 16000));
    const found = findInRecording(samplesOf(frames), float32ToInt16(wav.samples));
    assert.ok(found.correlation > 0.99, `correlation ${found.correlation}`);
  });

  it('starts, mutes (by message and by control event), unmutes and stops on command', async () => {
    await helper.load(micIn, flow({ source: 'wav', wavPath: CLIP, pace: 'realtime', autoStart: false }));
    const mic = helper.getNode('mic');
    const frames = collect<Frame>('frames');
    assert.equal(lastStatus('mic').text, 'stopped');
    mic.receive({ payload: 'start' } as never);
    await sleep(300);
    const whileOn = frames.length;
    assert.ok(whileOn >= 8, `${whileOn} frames in 300 ms`);
    mic.receive(makeControl('mute', '*') as never);
    await sleep(50);
    assert.equal(frames[frames.length - 1].flush, true, 'muting ends the utterance');
    const atMute = frames.length;
    assert.equal(lastStatus('mic').text, 'muted');
    await sleep(300);
    assert.equal(frames.length, atMute, 'nothing is sent while muted');
    mic.receive({ payload: 'unmute' } as never);
    await sleep(300);
    assert.ok(frames.length > atMute + 8);
    mic.receive({ command: 'stop' } as never);
    await sleep(50);
    const atStop = frames.length;
    assert.equal(frames[atStop - 1].flush, true);
    await sleep(200);
    assert.equal(frames.length, atStop);
    assert.equal(lastStatus('mic').text, 'stopped');
  });

  it('refuses unknown commands and unreadable files with a catchable error, and keeps working', async () => {
    const notWav = join(dir, 'not.wav');
    writeFileSync(notWav, 'hello');
    await helper.load(micIn, flow({ source: 'wav', wavPath: notWav, pace: 'fast', autoStart: false }));
    const mic = helper.getNode('mic');
    const caught = collect<{ error: { message: string } }>('caught');
    mic.receive({ payload: 'dance' } as never);
    mic.receive({ payload: 'start' } as never);
    await until(() => caught.length === 2, 5000, 'two errors');
    assert.match(caught[0].error.message, /takes msg.payload "start", "stop", "mute" or "unmute"/);
    assert.match(caught[1].error.message, /not a WAV file/);
    assert.equal(lastStatus('mic').fill, 'red');
  });

  it('says so when it has no sound card', async () => {
    await helper.load(micIn, flow({ source: 'device', card: '' }));
    assert.equal(lastStatus('mic').text, 'no sound card');
  });

  describe('on the virtual sound card', () => {
    useVirtualCard();

    it('sends speech played into the microphone, intact, at 16 kHz from a 48 kHz card', async () => {
      const wav = await readWavMono(CLIP);
      const clip = float32ToInt16(wav.samples);
      await helper.load([micIn, soundCard], flow({ source: 'device', card: 'card48' }, [{ id: 'card48', type: 'sound-card', backend: 'audify', input: VIRTUAL_MIC, output: '', sampleRate: 48000, frameMs: 20 }]));
      const frames = collect<Frame>('frames');
      await until(() => frames.length > 10, 10_000, 'the microphone to open');
      await playIntoMic(clip, { latencyMs: 200 });
      await sleep(500);
      const found = findInRecording(samplesOf(frames), clip);
      assert.ok(found.correlation > 0.99, `correlation ${found.correlation.toFixed(4)}`);
      assert.match(lastStatus('mic').text ?? '', /dBFS|silence|listening/);
    });
  });
});
