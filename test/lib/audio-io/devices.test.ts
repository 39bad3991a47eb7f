import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { float32ToInt16 } from '../../../lib/audio/pcm';
import { resample } from '../../../lib/audio/resample';
import { readWavMono } from '../../../lib/audio/wav';
import type { BackendName } from '../../../lib/audio-io/backend';
import { availableBackends, loadBackend, loadNativeBackend } from '../../../lib/audio-io/load-backend';
import { PlaybackQueue, type TurnReport } from '../../../lib/audio-io/playback-queue';
import { SoundCard, type CardState } from '../../../lib/audio-io/sound-card';
import { deviceProcesses } from '../../support/engine-processes';
import { TESTDATA } from '../../support/paths';
import { findBetween, findInRecording, loudSpan, tone } from '../../support/signal';
import { ALSA_NAMES, CARD_RATE, playIntoMic, recordSpeaker, startVirtualCard, stopVirtualCard, useVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER } from '../../support/virtual-card';
import { sleep, until } from '../../support/wait';

const FRAME_MS = 20;

async function speechClip(): Promise<Int16Array> {
  const wav = await readWavMono(join(TESTDATA, 'arctic_aew_a0001.wav'));
  return float32ToInt16(wav.sampleRate === CARD_RATE ? wav.samples : resample(wav.samples, wav.sampleRate, CARD_RATE));
}

function names(backend: BackendName) {
  return backend === 'audify' ? { mic: VIRTUAL_MIC, speaker: VIRTUAL_SPEAKER } : { mic: ALSA_NAMES.mic, speaker: ALSA_NAMES.speaker };
}

function openCard(backend: BackendName, input: string, output: string): SoundCard {
  return new SoundCard(() => loadBackend(backend), { input, output, sampleRate: CARD_RATE, frameMs: FRAME_MS });
}

function untilState(card: SoundCard, wanted: CardState): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const on = (state: CardState, err?: Error) => {
      if (state !== wanted) return;
      card.off('state', on);
      resolve(err);
    };
    card.on('state', on);
  });
}

/** A speaker on the card: the playback queue wired to the card, with the turn reports it makes. */
function speakerOn(card: SoundCard) {
  const started: number[] = [];
  const ended: TurnReport[] = [];
  const queue = new PlaybackQueue({ sampleRate: CARD_RATE, framesPerBuffer: card.framesPerBuffer }, { started: () => started.push(performance.now()), ended: (r) => ended.push(r) });
  const release = card.addOutput({ attach: (sink) => queue.attach(sink), onPlayed: () => queue.onPlayed() });
  return { queue, started, ended, release };
}



describe('sound devices on the virtual sound card (PulseAudio null sinks)', function () {
  this.timeout(60_000);
  useVirtualCard();

  it('has the default backend, audify, installed', () => {
    assert.ok(availableBackends().includes('audify'), 'audify must load: it is the default backend');
  });

  for (const backend of ['audify', 'naudiodon'] as const) {
    describe(`backend ${backend}`, () => {
      before(function () {
        if (!availableBackends().includes(backend)) {
          console.log(`      skipped: ${backend} is not installed`);
          this.skip();
        }
      });

      it('lists the virtual microphone and speaker by name', () => {
        const devices = loadNativeBackend(backend).devices();
        const { mic, speaker } = names(backend);
        assert.ok(devices.some((d) => d.name === mic && d.inputChannels > 0), JSON.stringify(devices));
        assert.ok(devices.some((d) => d.name === speaker && d.outputChannels > 0), JSON.stringify(devices));
      });

      it('captures speech played into the microphone intact, even across a busy event loop', async () => {
        const clip = await speechClip();
        const card = openCard(backend, names(backend).mic, names(backend).speaker);
        const captured: Int16Array[] = [];
        const opened = untilState(card, 'open');
        const stop = card.addInput((s) => captured.push(s));
        await opened;
        await sleep(300);
        const played = playIntoMic(clip, { latencyMs: 200 });
        await sleep(500);
        // A flow doing a second of synchronous work must not cost the microphone any samples.
        const busyUntil = performance.now() + 1000;
        while (performance.now() < busyUntil);
        await played;
        await sleep(500);
        stop();
        await card.close();
        const all = Int16Array.from(captured.flatMap((c) => Array.from(c)));
        const found = findInRecording(all, clip);
        assert.ok(found.correlation > 0.99, `correlation ${found.correlation.toFixed(4)} at lag ${found.lag}`);
      });

      it('plays frames to the speaker intact and reports the turn played to its end', async () => {
        const clip = await speechClip();
        const card = openCard(backend, names(backend).mic, names(backend).speaker);
        const speaker = speakerOn(card);
        await untilState(card, 'open');
        const recorder = recordSpeaker();
        await sleep(300);
        // As piper-tts sends it: 20 ms frames, the last one marked complete.
        const step = (CARD_RATE * FRAME_MS) / 1000;
        for (let at = 0; at < clip.length; at += step) speaker.queue.enqueue({ turnId: 't-1', samples: clip.slice(at, at + step), complete: at + step >= clip.length });
        await until(() => speaker.ended.length === 1, 15_000, 'the end of the turn');
        await sleep(1500);
        const recorded = await recorder.stop();
        speaker.release();
        await card.close();
        const found = findInRecording(recorded, clip);
        assert.ok(found.correlation > 0.99, `correlation ${found.correlation.toFixed(4)} at lag ${found.lag}`);
        assert.equal(speaker.ended[0].cut, false);
        assert.ok(Math.abs(speaker.ended[0].playedMs - (clip.length / CARD_RATE) * 1000) < 1, `played ${speaker.ended[0].playedMs} ms`);
      });

      it('goes silent within 60 ms plus one buffer of an interrupt', async () => {
        const card = openCard(backend, names(backend).mic, names(backend).speaker);
        const speaker = speakerOn(card);
        await untilState(card, 'open');
        const recorder = recordSpeaker();
        await sleep(300);
        speaker.queue.enqueue({ turnId: 't-long', samples: tone(CARD_RATE, 4), complete: true });
        await until(() => speaker.started.length === 1, 5000, 'playback to start');
        await sleep(1000);
        const cutAt = performance.now();
        assert.deepEqual(speaker.queue.cancel(() => true), ['t-long']);
        const playedBeforeCut = cutAt - speaker.started[0];
        await sleep(1500);
        const recorded = await recorder.stop();
        speaker.release();
        await card.close();
        const heardMs = (loudSpan(recorded) / CARD_RATE) * 1000;
        const afterCut = heardMs - playedBeforeCut;
        assert.ok(afterCut < 60 + FRAME_MS, `${afterCut.toFixed(1)} ms of audio after the interrupt (heard ${heardMs.toFixed(0)} ms, ${playedBeforeCut.toFixed(0)} ms before it)`);
        assert.ok(heardMs > 900, `heard only ${heardMs.toFixed(0)} ms`);
        assert.equal(speaker.ended[0].cut, true);
      });

      it('pairs each captured buffer with the audio played during it (duplex, for echo cancellation)', async () => {
        const clip = await speechClip();
        const card = openCard(backend, names(backend).mic, names(backend).speaker);
        const speaker = speakerOn(card);
        const reference: Int16Array[] = [];
        card.on('reference', (_mic: Int16Array, played: Int16Array) => reference.push(played));
        const stop = card.addInput(() => undefined);
        await untilState(card, 'open');
        speaker.queue.enqueue({ turnId: 't-ref', samples: clip, complete: true });
        await until(() => speaker.ended.length === 1, 15_000, 'the end of the turn');
        stop();
        speaker.release();
        await card.close();
        // Where the device starved (a busy machine), it played silence and the reference says so with a
        // silent buffer: without those, every buffer played must be there once, in order.
        const audible = reference.filter((r) => r.some((v) => v !== 0));
        const all = Int16Array.from(audible.flatMap((c) => Array.from(c)));
        const found = findInRecording(all, clip);
        assert.ok(found.correlation > 0.99, `reference correlation ${found.correlation.toFixed(4)} at lag ${found.lag}; ${audible.length} of ${reference.length} buffers hold audio`);
        assert.ok(reference.length > (clip.length / CARD_RATE) * (1000 / FRAME_MS) * 0.8, `only ${reference.length} captured buffers`);
      });

      it('reports a missing device, keeps retrying, and closes cleanly', async () => {
        const card = openCard(backend, 'no such microphone', '');
        const errors: Error[] = [];
        card.on('state', (state: CardState, err?: Error) => {
          if (state === 'retrying' && err) errors.push(err);
        });
        card.addInput(() => undefined);
        await until(() => errors.length >= 2, 8000, 'two attempts');
        await card.close();
        assert.equal((errors[0] as { code?: string }).code, 'DEVICE_MISSING');
        assert.match(errors[0].message, /no microphone \(input device\) named "no such microphone" \(input devices: .*\): connect one, or choose another in the sound-card node/);
        assert.equal((errors[0] as { statusText?: string }).statusText, 'no mic: see debug');
      });

      it('notices a device that vanishes mid-stream, and captures and plays again when it is back', async function () {
        // Both backends: a stream that lost its device ends with its device process (naudiodon's reads
        // and writes would otherwise wait forever on thread-pool threads, audify's close on libpulse).
        this.timeout(90_000);
        const clip = await speechClip();
        const card = openCard(backend, names(backend).mic, names(backend).speaker);
        const speaker = speakerOn(card);
        const states: Array<{ state: CardState; at: number; err?: Error }> = [];
        card.on('state', (state: CardState, err?: Error) => states.push({ state, at: performance.now(), err }));
        let captures = 0;
        const opened = untilState(card, 'open');
        card.addInput(() => captures++);
        await opened;
        await until(() => captures > 10, 10_000, 'the first captures');
        // A reply is playing when the sound server dies (a USB card unplugged looks the same).
        speaker.queue.enqueue({ turnId: 't-gone', samples: tone(CARD_RATE, 5), complete: true });
        await until(() => speaker.started.length === 1, 5000, 'playback');
        const lost = untilState(card, 'retrying');
        const goneAt = performance.now();
        stopVirtualCard();
        const err = await lost;
        const noticedMs = performance.now() - goneAt;
        const capturedWhileGone = captures;
        await sleep(1500);
        // A dead stream must not spin: no flood of empty buffers, and the reply is not counted as heard.
        assert.ok(captures - capturedWhileGone < 10, `${captures - capturedWhileGone} buffers captured from a device that is gone`);
        assert.ok(speaker.ended.every((r) => r.playedMs < 5000), `reported as played: ${JSON.stringify(speaker.ended)}`);
        assert.equal((err as { code?: string } | undefined)?.code, 'DEVICE_LOST', String(err));
        assert.ok(noticedMs < 5000, `noticed after ${noticedMs.toFixed(0)} ms`);

        startVirtualCard();
        await until(() => states.some((s) => s.state === 'open' && s.at > goneAt), 40_000, 'the card to reopen');
        const before = captures;
        await until(() => captures - before > 25, 10_000, 'captures after the device came back');
        // The reply that was playing waited for the device, and is played out first.
        await until(() => speaker.ended.some((r) => r.turnId === 't-gone'), 20_000, 'the rest of the reply');
        const recorder = recordSpeaker();
        await sleep(300);
        speaker.queue.enqueue({ turnId: 't-back', samples: clip, complete: true });
        await until(() => speaker.ended.some((r) => r.turnId === 't-back'), 20_000, 'the new turn to play');
        await sleep(1000);
        const recorded = await recorder.stop();
        speaker.release();
        await card.close();
        const found = findBetween(recorded, clip, 0, recorded.length - clip.length);
        assert.ok(found.correlation > 0.99, `correlation ${found.correlation.toFixed(4)} at lag ${found.lag} of ${recorded.length}`);
        assert.ok(states.filter((s) => s.state === 'retrying').every((s) => s.err instanceof Error), 'every failure carries its error');
      });

      it('runs its stream in a device process: a library that dies there costs a reopen, never this process', async function () {
        this.timeout(60_000);
        const card = openCard(backend, names(backend).mic, names(backend).speaker);
        const states: CardState[] = [];
        let lostWith: Error | undefined;
        card.on('state', (state: CardState, err?: Error) => {
          states.push(state);
          if (state === 'retrying') lostWith = err;
        });
        let captures = 0;
        const opened = untilState(card, 'open');
        card.addInput(() => captures++);
        await opened;
        const [pid] = deviceProcesses();
        assert.ok(pid, 'a device process holds the open stream');
        process.kill(pid, 'SIGKILL');
        await until(() => states.includes('retrying'), 5000, 'the card to notice its device process died');
        assert.equal((lostWith as { code?: string } | undefined)?.code, 'DEVICE_LOST', String(lostWith));
        await until(() => states.lastIndexOf('open') > states.indexOf('retrying'), 20_000, 'the card to reopen');
        const before = captures;
        await until(() => captures - before > 25, 10_000, 'captures after the reopen');
        assert.equal(deviceProcesses().filter((p) => p === pid).length, 0);
        await card.close();
        await until(() => deviceProcesses().length === 0, 5000, 'no device process after close');
      });

      it('opens and closes 100 times without leaking streams, threads or handles', async function () {
        this.timeout(180_000);
        const fds = () => readdirSync('/proc/self/fd').length;
        const threads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
        const cycle = async () => {
          const card = openCard(backend, names(backend).mic, names(backend).speaker);
          const speaker = speakerOn(card);
          const opened = untilState(card, 'open');
          card.addInput(() => undefined);
          await opened;
          speaker.queue.enqueue({ turnId: 't', samples: tone(CARD_RATE, 0.05), complete: true });
          await card.close();
        };
        await cycle();
        await sleep(200);
        const before = { fds: fds(), threads: threads() };
        for (let i = 0; i < 100; i++) await cycle();
        await sleep(500);
        const after = { fds: fds(), threads: threads() };
        assert.deepEqual(deviceProcesses(), [], 'every device process has ended');
        assert.ok(after.fds <= before.fds + 3, `file descriptors ${before.fds} -> ${after.fds}`);
        assert.ok(after.threads <= before.threads + 3, `threads ${before.threads} -> ${after.threads}`);
      });
    });
  }
});
