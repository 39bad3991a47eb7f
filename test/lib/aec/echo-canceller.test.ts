import assert from 'node:assert/strict';
import { EchoCanceller } from '../../../lib/aec/echo-canceller';
import { aecRoom, cancel, erle, microphone, RATE, ROOMS, speech, speechStarts, userLoss, voices, type Room } from '../../support/echo-room';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ERLE of each second in [from, to) s in which the assistant talks. */
function erleBySecond(mic: Int16Array, out: Int16Array, far: Int16Array, from: number, to: number): number[] {
  const values: number[] = [];
  for (let s = from; s < to && (s + 1) * RATE <= mic.length; s++) {
    const talking = far.subarray(s * RATE, (s + 1) * RATE).filter((v) => Math.abs(v) > 1000).length > 0.3 * RATE;
    if (talking) values.push(erle(mic, out, s * RATE, (s + 1) * RATE));
  }
  return values;
}

describe('echo canceller (lib/aec)', function () {
  this.timeout(120_000);

  describe('on the shared aec-room recording (40 ms, reverb, user from 6 s)', () => {
    let room: Awaited<ReturnType<typeof aecRoom>>;
    let out: Int16Array;
    before(async () => {
      room = await aecRoom();
      out = cancel(room.near, room.far).out;
    });

    it('removes at least 25 dB of echo in every second from 2 s on while only the assistant talks', () => {
      const full = erleBySecond(room.near, out, room.far, 2, 6);
      const uncut = erleBySecond(room.near, cancel(room.near, room.far, { cutEchoOnly: false }).out, room.far, 2, 6);
      assert.ok(full.length >= 3, 'the assistant talks in most of 2-6 s');
      assert.ok(Math.min(...full) >= 25, `ERLE per second ${full.map((v) => v.toFixed(1)).join(', ')} dB`);
      // The adaptive filter and residual suppressor alone, without the echo-only cut, reach the goal too.
      assert.ok(Math.min(...uncut) >= 25, `without the cut: ${uncut.map((v) => v.toFixed(1)).join(', ')} dB`);
    });

    it('keeps the user in double talk: at most 3 dB lost, and far above the residual echo', () => {
      const { lossDb, snrDb } = userLoss(out, room.user, room.userFrom, room.near.length);
      const before = userLoss(room.near, room.user, room.userFrom, room.near.length).snrDb;
      assert.ok(lossDb <= 3, `user speech loss ${lossDb.toFixed(2)} dB`);
      assert.ok(snrDb >= before + 15, `user-to-residual ${snrDb.toFixed(1)} dB (microphone: ${before.toFixed(1)} dB)`);
    });

    it('gives the VAD no speech while only the assistant talks, and the user as soon as they do', () => {
      const rawStarts = speechStarts(room.near.subarray(0, room.userFrom));
      assert.ok(rawStarts.length > 0, 'without the canceller the VAD hears the assistant (else this test proves nothing)');
      const starts = speechStarts(out);
      assert.deepEqual(starts.filter((s) => s < room.userFrom), [], 'no false barge-in');
      assert.ok(starts.some((s) => s >= room.userFrom && s < room.userFrom + RATE), `user heard within 1 s: starts at ${starts.map((s) => (s / RATE).toFixed(2))} s`);
    });
  });

  describe('in simulated rooms (other delays, levels, reverbs, noise)', () => {
    let v: Awaited<ReturnType<typeof voices>>;
    before(async () => {
      v = await voices();
    });

    for (const [name, room] of Object.entries(ROOMS)) {
      it(`${name}: ERLE >= 25 dB, no false barge-in, every barge-in heard, user kept`, () => {
        const far = speech(v.assistant, 40, room.seed);
        const mic = microphone(room, far);
        const { out } = cancel(mic, far);
        const values = erleBySecond(mic, out, far, 2, 40);
        assert.ok(median(values) >= 25, `median ERLE ${median(values).toFixed(1)} dB`);
        assert.ok(speechStarts(mic).length > 0, 'the raw microphone holds the assistant');
        assert.deepEqual(speechStarts(out), [], 'no speech heard with nobody talking');

        const user = new Int16Array(far.length);
        const turns: Array<{ onset: number; end: number }> = [];
        for (let at = 10 * RATE, i = 0; at + 4 * RATE < far.length; at += 6 * RATE, i++) {
          const said = v.user[i % v.user.length].subarray(0, 3 * RATE);
          user.set(said, at);
          turns.push({ onset: at + said.findIndex((s) => Math.abs(s) > 500), end: at + said.length });
        }
        const heard = cancel(microphone(room, far, user), far).out;
        const starts = speechStarts(heard);
        for (const t of turns) assert.ok(starts.some((s) => s >= t.onset - 0.3 * RATE && s <= t.end), `barge-in at ${(t.onset / RATE).toFixed(1)} s heard (starts: ${starts.map((s) => (s / RATE).toFixed(1))})`);
        const { lossDb } = userLoss(heard, user, 10 * RATE, far.length);
        assert.ok(lossDb <= 3, `user speech loss ${lossDb.toFixed(2)} dB`);
      });
    }

    it('follows a speaker-to-microphone delay that jumps from 60 to 200 ms (beyond its filter)', () => {
      const before: Room = ROOMS['living room'];
      const after: Room = { ...before, delayMs: 200, seed: 9 };
      const far = speech(v.assistant, 30, 5);
      const jump = 10 * RATE;
      const mic = microphone(before, far);
      mic.set(microphone(after, far).subarray(jump), jump);
      const aec = new EchoCanceller();
      const out = new Int16Array(mic.length + aec.latencySamples);
      for (let i = 0; i < mic.length; i += 320) out.set(aec.process(mic.subarray(i, i + 320), far.subarray(i, i + 320)), i);
      const cleaned = out.subarray(aec.latencySamples);
      // The filter spans 128 ms after the delay it uses: 200 ms must have moved it (to 200 ms less a 16 ms margin).
      assert.ok(Math.abs(aec.state.delayMs - 184) <= 8, `delay in use ${aec.state.delayMs} ms`);
      const recovered = erleBySecond(mic, cleaned, far, 15, 30);
      assert.ok(median(recovered) >= 25, `ERLE 5 s after the jump: ${median(recovered).toFixed(1)} dB`);
    });

    it('hears no barge-in when the assistant changes voice (a filter fitted to one voice only broke on the next)', () => {
      // The speaker heard through a pure delay: the three cases gave a false speech-start at the
      // second voice's onset with an evenly stepped filter whose power followed rises slowly.
      for (const [seed, delay] of [[13, 4233], [13, 5603], [11, 5603]]) {
        const lead = Math.round(0.22 * RATE);
        const far = new Int16Array(lead + 17 * RATE);
        far.set(speech(v.assistant, 16, seed), lead);
        const mic = new Int16Array(far.length);
        mic.set(far.subarray(0, far.length - delay), delay);
        const starts = speechStarts(cancel(mic, far).out.subarray(lead)).filter((s) => s >= 3 * RATE);
        assert.deepEqual(starts.map((s) => (s / RATE).toFixed(2)), [], `seed ${seed}, delay ${delay} samples: speech-starts (s)`);
      }
    });
  });

  it('lets the user through while the assistant talks into a headset (no echo at all) once it has heard there is none', async () => {
    const v = await voices();
    const far = speech(v.assistant, 20, 21);
    const user = new Int16Array(far.length);
    const at = 8 * RATE;
    user.set(v.user[1], at);
    const mic = microphone({ delayMs: 0, gain: 0, reverbMs: 0, reverbLevel: 0, noise: 5, seed: 21 }, far, user);
    const { out } = cancel(mic, far);
    const starts = speechStarts(out);
    assert.ok(starts.some((s) => s >= at && s < at + RATE), `user heard at ${(at / RATE).toFixed(1)} s: starts ${starts.map((s) => (s / RATE).toFixed(2))}`);
    const { lossDb } = userLoss(out, user, at, at + v.user[1].length);
    assert.ok(lossDb <= 1, `user speech loss ${lossDb.toFixed(2)} dB`);
  });

  it('keeps a user who talks while it relearns after the echo jumped (the room still tells the voice from the echo)', async () => {
    const v = await voices();
    const before = ROOMS['living room'];
    const far = speech(v.assistant, 20, 5);
    const user = new Int16Array(far.length);
    const at = 11 * RATE;
    user.set(v.user[0], at);
    // The echo moves by 140 ms at 10 s (a device hiccup); the user talks over the assistant from 11 s.
    const mic = microphone(before, far, user);
    mic.set(microphone({ ...before, delayMs: 200, seed: 9 }, far, user).subarray(10 * RATE), 10 * RATE);
    const { out } = cancel(mic, far);
    const { lossDb } = userLoss(out, user, at, at + v.user[0].length);
    // (Before the restart, the moved echo passes for about half a second: see docs/echo-cancellation.md, Limits.)
    assert.ok(lossDb <= 3, `user speech loss ${lossDb.toFixed(2)} dB`);
  });

  it('passes the microphone through untouched, one latency late, while nothing plays', () => {
    const aec = new EchoCanceller();
    const mic = Int16Array.from({ length: 8000 }, (_, i) => Math.round(8000 * Math.sin(i / 7) + 3000 * Math.sin(i / 3.1)));
    const out = new Int16Array(mic.length);
    for (let i = 0; i < mic.length; i += 160) out.set(aec.process(mic.subarray(i, i + 160), new Int16Array(160)), i);
    assert.deepEqual(out.subarray(aec.latencySamples), mic.subarray(0, mic.length - aec.latencySamples));
    assert.equal(aec.state.farEnd, false);
  });

  it('gives the same output whatever the frame sizes it is fed (1 sample to 2 s)', async () => {
    const room = await aecRoom();
    const near = room.near.subarray(0, 4 * RATE);
    const far = room.far.subarray(0, 4 * RATE);
    const whole = cancel(near, far).out;
    const aec = new EchoCanceller();
    const pieces: Int16Array[] = [];
    const sizes = [1, 77, 320, 1000, 32000, 3];
    for (let at = 0, i = 0; at < near.length; i++) {
      const end = Math.min(near.length, at + sizes[i % sizes.length]);
      pieces.push(aec.process(near.subarray(at, end), far.subarray(at, end)));
      at = end;
    }
    const joined = Int16Array.from(pieces.flatMap((p) => Array.from(p)));
    assert.deepEqual(joined.subarray(aec.latencySamples), whole.subarray(0, near.length - aec.latencySamples));
  });

  it('refuses a reference that does not match the microphone, and takes empty buffers', () => {
    const aec = new EchoCanceller();
    assert.throws(() => aec.process(new Int16Array(320), new Int16Array(319)), /differ in length \(320 and 319 samples\)/);
    assert.equal(aec.process(new Int16Array(0), new Int16Array(0)).length, 0);
    assert.equal(aec.process(new Int16Array(320), new Int16Array(320)).length, 320);
  });
});
