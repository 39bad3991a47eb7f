import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import { int16ToBuffer } from '../../../lib/audio/pcm';
import micIn from '../../../nodes/mic-in/mic-in';
import soundCard from '../../../nodes/sound-card/sound-card';
import speakerOut from '../../../nodes/speaker-out/speaker-out';
import { RATE, speech, speechStarts, voices } from '../../support/echo-room';
import { collect, samplesOf } from '../../support/node-red';
import { findBetween } from '../../support/signal';
import { playIntoMic, speakerIntoMic, startVirtualCard, stopVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER, virtualCardMissing } from '../../support/virtual-card';
import { sleep, until } from '../../support/wait';

helper.init(require.resolve('node-red'));

type Frame = { payload?: Buffer };
const energyDb = (x: Int16Array) => 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length) + 1e-9);

const flow = [
  { id: 'f1', type: 'tab' },
  { id: 'card', type: 'sound-card', backend: 'audify', input: VIRTUAL_MIC, output: VIRTUAL_SPEAKER, sampleRate: 16000, frameMs: 20 },
  // Two microphones on one card: one cancels the echo, one hears the room as it is.
  { id: 'clean', z: 'f1', type: 'mic-in', card: 'card', frameMs: 20, echoCancel: true, wires: [['cleaned']] },
  { id: 'raw', z: 'f1', type: 'mic-in', card: 'card', frameMs: 20, echoCancel: false, wires: [['heard']] },
  { id: 'spk', z: 'f1', type: 'speaker-out', card: 'card', wires: [[], []] },
  { id: 'cleaned', z: 'f1', type: 'helper' },
  { id: 'heard', z: 'f1', type: 'helper' },
];

/** Where the assistant's sound is in the raw microphone, second by second until `to`: its delay (samples) in each. */
function echoDelays(raw: Int16Array, played: Int16Array, to: number): number[] {
  const delays: number[] = [];
  for (let at = RATE; at + RATE <= to; at += RATE) delays.push(findBetween(raw, played.subarray(at, at + RATE), at, at + RATE).lag - at);
  return delays;
}

describe('mic-in echo cancellation on the virtual sound card (speaker looped into the mic)', function () {
  this.timeout(90_000);
  const missing = virtualCardMissing();
  let unloop = (): void => undefined;
  before(function () {
    if (missing) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    startVirtualCard();
    unloop = speakerIntoMic(60);
  });
  after(() => {
    if (missing) return;
    unloop();
    stopVirtualCard();
  });
  afterEach(() => helper.unload());

  it('hears the user over the assistant, and not the assistant', async () => {
    const v = await voices();
    const assistant = speech(v.assistant, 16, 11);
    const user = v.user[0];
    await helper.load([micIn, soundCard, speakerOut], flow as never);
    const cleaned = collect<Frame>('cleaned');
    const heard = collect<Frame>('heard');
    await until(() => heard.length > 10, 10_000, 'the microphones to open');
    const spk = helper.getNode('spk');
    const step = RATE / 50;
    for (let at = 0; at < assistant.length; at += step) {
      spk.receive({ topic: 'audio', payload: int16ToBuffer(assistant.slice(at, at + step)), audio: { sampleRate: RATE, channels: 1, format: 's16le' }, turnId: 't-echo', complete: at + step >= assistant.length } as never);
    }
    const startFrames = heard.length;
    // The user talks over the assistant after 11 s of it (the canceller learns the room meanwhile).
    await sleep(11_000);
    const userAt = heard.length - startFrames;
    // A deep feeder buffer: a busy machine starving pacat's 20 ms one would cut a gap into the user (the
    // source, not the canceller), and the user starts that much later (the search below allows a second).
    await playIntoMic(user, { latencyMs: 200 });
    await sleep(6_000);

    const raw = samplesOf(heard.slice(startFrames));
    const clean = samplesOf(cleaned.slice(startFrames));
    const userFrom = userAt * step;
    // Assistant alone, from 5 s (learnt) to the user: the echo is at least 25 dB quieter. Median of the
    // seconds: a loaded machine can make the loopback skip (the echo then moves and is relearnt).
    const perSecond: number[] = [];
    for (let s = 5 * RATE; s + RATE <= userFrom - RATE / 2; s += RATE) perSecond.push(energyDb(raw.subarray(s, s + RATE)) - energyDb(clean.subarray(s, s + RATE)));
    assert.ok(energyDb(raw.subarray(5 * RATE, userFrom)) > 50, 'the loopback brings the assistant into the microphone');
    const median = [...perSecond].sort((a, b) => a - b)[Math.floor(perSecond.length / 2)];
    assert.ok(median >= 25, `echo reduced by ${perSecond.map((v) => v.toFixed(1)).join(', ')} dB`);
    // The user's voice is there, intact enough to be found by content.
    // pacat and the card add some tens of ms before the user reaches the capture.
    const found = findBetween(clean, user, userFrom - RATE / 5, userFrom + RATE);
    const inRaw = findBetween(raw, user, found.lag - 100, found.lag + 100);
    assert.ok(found.correlation > 0.6, `user found with correlation ${found.correlation.toFixed(3)} at ${(found.lag / RATE).toFixed(2)} s (raw microphone: ${inRaw.correlation.toFixed(3)})`);
    assert.ok(found.correlation > inRaw.correlation, 'the user stands out more clearly than in the raw microphone');
    // And the VAD hears speech only from the user on: no barge-in on the assistant's voice.
    const starts = speechStarts(clean).filter((s) => s >= 3 * RATE);
    assert.ok(starts.length >= 1, 'the user is heard');
    const early = starts.filter((s) => s < found.lag - RATE / 5);
    const told = `speech starts at ${starts.map((s) => (s / RATE).toFixed(2))} s, the user at ${(found.lag / RATE).toFixed(2)} s`;
    // A loaded machine can make the loopback skip: the echo then arrives later than before, and until the
    // canceller's delay estimator sees it (about half a second) the moved echo can pass for the user: the
    // one false barge-in docs/echo-cancellation.md (Limits) owns to. Where the echo's delay stayed put
    // (as it does on a quiet machine), none may pass; where it moved, one, within 2 s of the move.
    const delays = echoDelays(raw, assistant, userFrom - RATE / 2);
    const moved = delays.findIndex((d, k) => k > 0 && Math.abs(d - delays[k - 1]) > 48);
    const why = `${told}; echo delay in each second of the assistant alone: ${delays.map((d) => ((d / RATE) * 1000).toFixed(0)).join(', ')} ms`;
    if (moved < 0) assert.deepEqual(early, [], why);
    else assert.ok(early.length <= 1 && early.every((s) => s >= moved * RATE && s < (moved + 3) * RATE), why);
  });
});
