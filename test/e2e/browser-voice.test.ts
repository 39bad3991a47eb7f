import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import WebSocket from 'ws';
import { resample } from '../../lib/audio/resample';
import { bufferToInt16, float32ToInt16 } from '../../lib/audio/pcm';
import { parseWav } from '../../lib/audio/wav';
import { audioFrame } from '../../lib/messages';
import { VoiceRed, launchVoiceChromium, openRoom, pageState, until } from '../support/browser-voice';
import { CHROMIUM, hasChromium } from '../support/chromium';
import { correlationAt, findBetween, tone } from '../support/signal';
import { sleep } from '../support/wait';
import { roomsFlowSuite } from './browser-rooms-flow.suite';

const CLIP = '/work/shared/models/testdata/arctic_aew_a0001.wav';
const clipSamples = (): Int16Array => float32ToInt16(parseWav(readFileSync(CLIP)).samples);

/** Two browser rooms, each a card with a mic-in and a speaker-out; the kitchen's page needs a token. */
function twoRooms(): unknown[] {
  const room = (name: string, token?: string) => [
    { id: `card-${name}`, type: 'sound-card', name, version: 2, backend: 'browser', room: name, input: '', output: '', sampleRate: 16000, frameMs: 20, ...(token ? { credentials: { token } } : {}) },
    { id: `mic-${name}`, type: 'mic-in', z: 'tab', source: 'device', card: `card-${name}`, wavPath: '', pace: 'realtime', autoStart: true, frameMs: 20, echoCancel: false, wires: [['sink']] },
    { id: `spk-${name}`, type: 'speaker-out', z: 'tab', sink: 'device', card: `card-${name}`, wavPath: '', wavRate: 16000, wires: [['sink'], ['sink']] },
  ];
  return [
    { id: 'tab', type: 'tab', label: 'rooms' },
    { id: 'sink', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'true' },
    // Every node's status, as messages the test sees.
    { id: 'statuses', type: 'status', z: 'tab', scope: null, wires: [['sink']] },
    ...room('kitchen', 'secret'),
    ...room('lounge'),
  ];
}

/** Frames of a turn as piper-tts sends them: 20 ms, with a turn id and a room. */
function sendTurn(red: VoiceRed, speaker: string, samples: Int16Array, turnId: string, room?: string, text?: string): void {
  for (let at = 0; at < samples.length; at += 320) {
    const last = at + 320 >= samples.length;
    red.inject(speaker, { ...audioFrame(samples.slice(at, at + 320), 16000, { turnId, ...(room ? { room } : {}), ...(text ? { text } : {}) }), ...(last ? { complete: true } : {}) });
  }
}

/** What the page recorded of its own output, at 16 kHz. */
async function pageRecording(page: import('playwright-core').Page): Promise<Int16Array> {
  const rec = await page.evaluate(() => (window as unknown as { voice: { stopRecording(): Promise<{ sampleRate: number; samples: number[] }> } }).voice.stopRecording());
  return float32ToInt16(resample(Float32Array.from(rec.samples), rec.sampleRate, 16000));
}

describe('browser as microphone and speaker (headless Chromium, issue #18)', function () {
  this.timeout(180_000);
  // One Node-RED for both suites (see VoiceRed).
  const red = new VoiceRed();
  let started = false;
  before(async function () {
    if (!hasChromium()) return this.skip();
    await red.start();
    started = true;
  });
  after(async () => {
    if (started) await red.stop();
  });

  describe('a card per room', cardPerRoom(red));
  describe('the shipped browser-rooms flow: two tablets, one assistant (tiny models)', roomsFlowSuite(red));
});

function cardPerRoom(red: VoiceRed): (this: Mocha.Suite) => void {
  return function () {
    let browser: Browser;
    let context: BrowserContext;

    before(async function () {
      await red.deploy(twoRooms());
      browser = await launchVoiceChromium(CLIP);
      context = await browser.newContext();
    });

    after(async () => {
      await browser?.close();
      await red.release();
    });

    it('the page serves under httpNodeRoot; a wrong token gets 401 on the page, its ticket and its WebSocket', async () => {
      assert.equal((await fetch(`${red.base}/voice/kitchen?token=secret`)).status, 200);
      assert.equal((await fetch(`${red.base}/voice/kitchen`)).status, 401);
      assert.equal((await fetch(`${red.base}/voice/kitchen/ticket?token=wrong`)).status, 401);
      assert.equal((await fetch(`${red.base}/voice/nowhere`)).status, 404);
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${red.base.replace('http', 'ws')}/voice/kitchen/ws?token=wrong`);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
      });
      assert.equal(status, 401);
      // A valid ticket from another site's page is refused too.
      const { ticket } = (await (await fetch(`${red.base}/voice/lounge/ticket`)).json()) as { ticket: string };
      const foreign = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${red.base.replace('http', 'ws')}/voice/lounge/ws?ticket=${ticket}`, { origin: 'http://evil.example' });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
      });
      assert.equal(foreign, 403);
    });

    it('before any page starts, mic-in and speaker-out wait for the browser (no error)', async () => {
      const statusOf = (id: string) => red.from('statuses').filter((m) => (m.status as { source: { id: string } }).source.id === id).map((m) => (m.status as { text: string }).text);
      await until(() => statusOf('mic-lounge').includes('waiting for browser') && statusOf('spk-lounge').includes('waiting for browser'), 10_000, 'waiting statuses');
      const red_ = red.from('statuses').filter((m) => (m.status as { fill?: string }).fill === 'red');
      assert.deepEqual(red_, [], 'no red status before any page');
      const page = await context.newPage();
      await page.goto(`${red.base}/voice/lounge`);
      assert.match(await page.textContent('#status') ?? '', /Press Start/);
      await page.close();
    });

    it('the clip the page hears comes out of mic-in (16 kHz, same content), tagged with the room, and the browser processing is on by default', async () => {
      const page = await openRoom(context, red.base, 'kitchen', '?token=secret&processing=off');
      const clip = clipSamples();
      const from = red.sent.length;
      await until(() => red.sent.slice(from).filter((s) => s.source === 'mic-kitchen').length >= Math.ceil((clip.length * 2.2) / 320), 60_000, 'two clips of capture');
      const frames = red.sent.slice(from).filter((s) => s.source === 'mic-kitchen').map((s) => s.msg);
      assert.ok(frames.every((f) => f.room === 'kitchen'), 'every frame names its room');
      const heard = Int16Array.from(frames.flatMap((f) => Array.from(bufferToInt16(f.payload as Buffer))));
      // Chromium loops the file (with a few ms between loops): find the clip's second second, and if the loop it is in
      // began before the capture did, find it again one loop later; then compare the whole clip from that loop's start.
      const probe = clip.subarray(16000, 32000);
      let at = findBetween(heard, probe, 0, clip.length + 16000);
      if (at.lag < 16000) at = findBetween(heard, probe, at.lag + clip.length - 3200, at.lag + clip.length + 3200);
      const lag = at.lag - 16000;
      const whole = correlationAt(heard, clip, lag);
      assert.ok(whole > 0.9, `the whole clip correlates ${whole.toFixed(3)} at ${lag} (middle second ${at.correlation.toFixed(3)})`);
      await page.close();

      const processed = await openRoom(context, red.base, 'kitchen', '?token=secret');
      const track = (await pageState(processed)).track as { echoCancellation?: boolean; noiseSuppression?: boolean; autoGainControl?: boolean };
      assert.deepEqual([track.echoCancellation, track.noiseSuppression, track.autoGainControl], [true, true, true]);
      await processed.close();
    });

    it('frames sent to speaker-out are played by the page; tts-start and tts-end come from its receipts; an interrupt silences it at once', async () => {
      const page = await openRoom(context, red.base, 'lounge', '?processing=off');
      await page.evaluate(() => (window as unknown as { voice: { startRecording(): void } }).voice.startRecording());
      const sound = tone(16000, 1.0, 523, 10000);
      sendTurn(red, 'spk-lounge', sound, 'turn-a', 'lounge');
      await until(() => red.from('spk-lounge').some((m) => (m.control as { type?: string } | undefined)?.type === 'tts-end'), 30_000, 'tts-end');
      const played = await pageRecording(page);
      const found = findBetween(played, sound.subarray(1600, 8000), 0, played.length - 8000);
      assert.ok(found.correlation > 0.95, `the page played the tone (correlation ${found.correlation.toFixed(3)})`);
      const end = red.from('spk-lounge').find((m) => (m.control as { type?: string } | undefined)?.type === 'tts-end')!;
      assert.equal(end.room, 'lounge');
      assert.ok(Math.abs((end.control as { playedMs: number }).playedMs - 1000) <= 40, `played ${(end.control as { playedMs: number }).playedMs} ms of 1000`);

      // A long turn, cut after it started: the page falls silent within a buffer and its jitter buffer.
      await page.evaluate(() => (window as unknown as { voice: { startRecording(): void } }).voice.startRecording());
      const long = tone(16000, 5, 440, 10000);
      sendTurn(red, 'spk-lounge', long, 'turn-b', 'lounge');
      await until(() => red.from('spk-lounge').some((m) => (m.control as { type?: string; turnId?: string } | undefined)?.type === 'tts-start' && m.turnId === 'turn-b'), 30_000, 'tts-start');
      await sleep(500);
      red.inject('spk-lounge', { topic: 'control', turnId: 'turn-b', control: { v: 1, type: 'interrupt', turnId: 'turn-b', ts: Date.now(), reason: 'barge-in' } });
      const cutAt = Date.now();
      await until(() => red.from('spk-lounge').some((m) => (m.control as { type?: string } | undefined)?.type === 'tts-end' && m.turnId === 'turn-b'), 10_000, 'tts-end of the cut turn');
      await sleep(600);
      const afterCut = await pageRecording(page);
      const cut = red.from('spk-lounge').find((m) => (m.control as { type?: string } | undefined)?.type === 'tts-end' && m.turnId === 'turn-b')!;
      assert.equal((cut.control as { cut: boolean }).cut, true);
      // Loud samples in the recording (16 kHz): the tone played until the cut, then nothing for the 600 ms after it.
      let lastLoud = afterCut.length - 1;
      while (lastLoud >= 0 && Math.abs(afterCut[lastLoud]) <= 1000) lastLoud--;
      const loud = afterCut.filter((v) => Math.abs(v) > 1000).length;
      const playedMs = (cut.control as { playedMs: number }).playedMs;
      assert.ok(playedMs < 4000, `cut after ${playedMs} ms`);
      // Everything loud fits in what was receipted plus the buffer in flight and the jitter buffer (3 × 20 ms), and ended before the recording did by ~600 ms.
      assert.ok(loud / 16 <= playedMs + 60 + 20, `loud for ${loud / 16} ms, receipted ${playedMs} ms`);
      assert.ok(afterCut.length - lastLoud > 0.4 * 16000, `silent for ${((afterCut.length - lastLoud) / 16).toFixed(0)} ms after the cut (${Date.now() - cutAt} ms ago)`);
      await page.close();
    });

    it('says so when the page is not on a secure origin, and when the microphone is refused', async () => {
      const other = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP voice.test 127.0.0.1`, '--use-fake-device-for-media-stream'] });
      try {
        const ctx = await other.newContext();
        const insecure = await ctx.newPage();
        await insecure.goto(`${red.base.replace('127.0.0.1', 'voice.test')}/voice/lounge`);
        assert.match((await insecure.textContent('#status')) ?? '', /needs a secure page/);
        assert.equal(await insecure.isDisabled('#start'), true);
        // No fake permission UI: headless Chromium denies the microphone.
        const refused = await ctx.newPage();
        await refused.goto(`${red.base}/voice/lounge`);
        await refused.click('#start');
        await refused.waitForFunction(() => (window as unknown as { voice: { error: string } }).voice.error !== '', undefined, { timeout: 20_000 });
        assert.match((await refused.textContent('#status')) ?? '', /microphone was refused/);
      } finally {
        await other.close();
      }
    });

    it('two rooms: an answer is played only in its room; a reload reconnects and the next turn plays', async () => {
      const kitchen = await openRoom(context, red.base, 'kitchen', '?token=secret&processing=off');
      const lounge = await openRoom(context, red.base, 'lounge', '?processing=off');
      const before = { kitchen: (await pageState(kitchen)).received, lounge: (await pageState(lounge)).received };
      // The flow sends each answer (and asr's transcripts) to both speakers; each plays and shows only its room's.
      for (const spk of ['spk-kitchen', 'spk-lounge']) {
        red.inject(spk, { topic: 'transcript', payload: 'what time is it', partial: false, turnId: 'turn-k', room: 'kitchen', timings: { recognitionMs: 1 } });
        sendTurn(red, spk, tone(16000, 0.4, 660), 'turn-k', 'kitchen', 'It is noon.');
      }
      await until(() => red.from('spk-kitchen').some((m) => (m.control as { type?: string } | undefined)?.type === 'tts-end' && m.turnId === 'turn-k'), 30_000, 'kitchen tts-end');
      await sleep(300);
      assert.ok((await pageState(kitchen)).received - before.kitchen >= 19, 'the kitchen page got the answer');
      assert.equal((await pageState(lounge)).received, before.lounge, 'the lounge page got nothing');
      assert.equal(red.from('spk-lounge').filter((m) => m.turnId === 'turn-k').length, 0, 'the lounge speaker reported nothing of it');
      assert.equal(await kitchen.textContent('#heard'), 'what time is it');
      assert.equal(await kitchen.textContent('#said'), 'It is noon.');
      assert.equal(await lounge.textContent('#heard'), '');

      const statusesBefore = red.from('statuses').length;
      await lounge.reload();
      // A page leaving is routine (a tablet sleeps): the room's nodes wait for the next page, as before the first, and turn no red.
      const since = () => red.from('statuses').slice(statusesBefore).map((m) => m.status as { source: { id: string }; fill?: string; text: string });
      await until(() => ['mic-lounge', 'spk-lounge'].every((id) => since().some((s) => s.source.id === id && s.text === 'waiting for browser' && s.fill === 'yellow')), 10_000, 'the lounge nodes waiting for the page');
      assert.deepEqual(since().filter((s) => s.fill === 'red'), []);
      await lounge.click('#start');
      await lounge.waitForFunction(() => (window as unknown as { voice: { connected: boolean; sent: number } }).voice.connected && (window as unknown as { voice: { sent: number } }).voice.sent > 5, undefined, { timeout: 30_000 });
      sendTurn(red, 'spk-lounge', tone(16000, 0.4, 660), 'turn-l', 'lounge');
      await until(() => red.from('spk-lounge').some((m) => (m.control as { type?: string } | undefined)?.type === 'tts-end' && m.turnId === 'turn-l'), 30_000, 'lounge tts-end after the reload');
      assert.ok((await pageState(lounge)).played >= 19);
      await kitchen.close();
      await lounge.close();
    });

    it('a redeploy: the page reconnects by itself and the next turn plays', async () => {
      const lounge = await openRoom(context, red.base, 'lounge', '?processing=off');
      await red.deploy(twoRooms());
      await lounge.waitForFunction(() => !(window as unknown as { voice: { connected: boolean } }).voice.connected, undefined, { timeout: 20_000 }).catch(() => undefined);
      await lounge.waitForFunction(() => (window as unknown as { voice: { connected: boolean } }).voice.connected, undefined, { timeout: 30_000 });
      sendTurn(red, 'spk-lounge', tone(16000, 0.4, 660), 'turn-r', 'lounge');
      await until(() => red.from('spk-lounge').some((m) => (m.control as { type?: string } | undefined)?.type === 'tts-end' && m.turnId === 'turn-r'), 30_000, 'tts-end after the redeploy');
      const end = red.from('spk-lounge').find((m) => (m.control as { type?: string } | undefined)?.type === 'tts-end' && m.turnId === 'turn-r')!;
      assert.ok((end.control as { playedMs: number }).playedMs >= 390);
      await lounge.close();
    });

    it('a bad room name, or a room two cards claim, shows on the nodes and stops nothing else', async () => {
      const card = (id: string, room: string) => ({ id, type: 'sound-card', version: 2, backend: 'browser', room, input: '', output: '', sampleRate: 16000, frameMs: 20 });
      const mic = (id: string, cardId: string) => ({ id, type: 'mic-in', z: 'tab', source: 'device', card: cardId, wavPath: '', pace: 'realtime', autoStart: true, frameMs: 20, echoCancel: false, wires: [['sink']] });
      await red.deploy([
        ...(twoRooms() as Array<{ type: string }>).filter((n) => ['tab', 'debug', 'status'].includes(n.type)),
        card('bad', 'no spaces please'),
        mic('mic-bad', 'bad'),
        card('first', 'attic'),
        card('second', 'attic'),
        mic('mic-first', 'first'),
        mic('mic-second', 'second'),
      ]);
      const statusOf = (id: string) => red.from('statuses').filter((m) => (m.status as { source: { id: string } }).source.id === id).map((m) => (m.status as { text: string }).text);
      await until(() => statusOf('mic-bad').includes('bad room name') && statusOf('mic-second').includes('room taken'), 10_000, 'the bad cards reported');
      assert.ok(statusOf('mic-first').includes('waiting for browser'));
      assert.equal((await fetch(`${red.base}/voice/attic`)).status, 200, 'the first card of the room serves it');
    });
  };
}
