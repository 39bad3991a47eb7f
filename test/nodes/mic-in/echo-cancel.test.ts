import assert from 'node:assert/strict';
import { EchoCanceller } from '../../../lib/aec/echo-canceller';
import { float32ToInt16, int16ToFloat32 } from '../../../lib/audio/pcm';
import { resample } from '../../../lib/audio/resample';
import { MicController, type MicSource } from '../../../nodes/mic-in/controller';
import { aecRoom, erle, RATE, userLoss } from '../../support/echo-room';
import { correlationAt } from '../../support/signal';

const CARD_RATE = 48000;
const BUFFER = CARD_RATE / 50;

/** A 48 kHz card that hands over the aec-room microphone with what it played, 20 ms at a time. */
function cardPlaying(mic: Int16Array, played: Int16Array): () => MicSource {
  return () => ({
    start: (onSamples) => {
      for (let at = 0; at + BUFFER <= mic.length; at += BUFFER) onSamples(mic.subarray(at, at + BUFFER), CARD_RATE, played.subarray(at, at + BUFFER));
    },
    stop: () => undefined,
  });
}

const up = (x: Int16Array) => float32ToInt16(resample(int16ToFloat32(x), RATE, CARD_RATE));

async function listen(echoCancel: boolean, mic: Int16Array, played: Int16Array): Promise<Int16Array> {
  const frames: Int16Array[] = [];
  const controller = new MicController(cardPlaying(mic, played), { audio: (m) => m.payload && frames.push(new Int16Array(new Uint8Array(m.payload as Buffer).slice().buffer)), status: () => undefined }, 20, echoCancel);
  await controller.start();
  controller.stop();
  return Int16Array.from(frames.flatMap((f) => Array.from(f)));
}

describe('mic-in echo cancellation (controller, 48 kHz card)', function () {
  this.timeout(60_000);

  it('removes the speaker from the capture and keeps the user, at the card rate it is given', async () => {
    const room = await aecRoom();
    const heard = await listen(true, up(room.near), up(room.far));
    const plain = await listen(false, up(room.near), up(room.far));
    // Align the 16 kHz output with the room's own 16 kHz microphone (resampling and the canceller delay it).
    let lag = 0;
    for (let l = 0; l < 800; l++) if (correlationAt(plain, room.near.subarray(0, 3 * RATE), l) > correlationAt(plain, room.near.subarray(0, 3 * RATE), lag)) lag = l;
    const cleaned = heard.subarray(lag + new EchoCanceller().latencySamples);
    const raw = plain.subarray(lag);
    assert.ok(erle(raw, cleaned, 2 * RATE, 6 * RATE) >= 25, `ERLE 2-6 s ${erle(raw, cleaned, 2 * RATE, 6 * RATE).toFixed(1)} dB`);
    assert.ok(Math.abs(erle(room.near, raw, 2 * RATE, 6 * RATE)) < 0.5, 'without cancellation the capture is the microphone');
    const { lossDb } = userLoss(cleaned, room.user, room.userFrom, Math.min(cleaned.length, room.user.length) - RATE / 10);
    assert.ok(lossDb <= 3, `user loss ${lossDb.toFixed(2)} dB`);
  });

  it('leaves a WAV or played-less source alone', async () => {
    const room = await aecRoom();
    const frames: Buffer[] = [];
    const source = (): MicSource => ({ start: (onSamples) => onSamples(room.near.subarray(0, RATE), RATE), stop: () => undefined });
    const controller = new MicController(source, { audio: (m) => m.payload && frames.push(m.payload as Buffer), status: () => undefined }, 20, true);
    await controller.start();
    const out = new Int16Array(new Uint8Array(Buffer.concat(frames)).buffer);
    assert.deepEqual(out.subarray(0, RATE - 320), room.near.subarray(0, RATE - 320));
  });
});
