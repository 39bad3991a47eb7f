import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { bufferToInt16, float32ToInt16 } from '../../lib/audio/pcm';
import { resample } from '../../lib/audio/resample';
import { encodeWav } from '../../lib/audio/wav';
import { makeControl, newTurnId, type ControlPayload } from '../../lib/messages';
import { VoiceRed, launchVoiceChromium, openRoom, pageState, until } from '../support/browser-voice';
import { ROOT, SHARED_MODELS } from '../support/paths';
import type { FlowNode } from '../support/shipped-flow';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';

const ROOMS = ['kitchen', 'lounge'] as const;
type Room = (typeof ROOMS)[number];

/**
 * flows/browser-rooms.json as a user imports it, with only the models set (tiny
 * ones, stories260K) and a question of its own on each room's inject button.
 */
function shippedRooms(dir: string): { flow: FlowNode[]; id: (type: string, room?: Room) => string } {
  const flow = JSON.parse(readFileSync(join(ROOT, 'flows', 'browser-rooms.json'), 'utf8')) as FlowNode[];
  const id = (type: string, room?: Room) => {
    const n = flow.find((f) => f.type === type && (room === undefined || String(f.name).includes(room)));
    assert.ok(n, `the flow has a ${type}${room ? ` for the ${room}` : ''}`);
    return n.id;
  };
  const node = (type: string, room?: Room) => flow.find((n) => n.id === id(type, room)) as FlowNode;
  const vad = join(SHARED_MODELS, 'vad', 'silero_vad.onnx');
  const asrDir = writeTinyAsrModel(dir);
  for (const room of ROOMS) Object.assign(node('asr', room), { modelDir: asrDir, vadModel: vad, endOfTurn: 'silence' });
  // A long answer, so that a barge-in lands while both rooms are still speaking.
  Object.assign(node('llama-llm'), { modelPath: join(SHARED_MODELS, 'llm', 'stories260K.gguf'), threads: 1, contextSize: 512, maxTokens: 60, temperature: 0, style: 'none' });
  Object.assign(node('piper-tts'), { voicePath: writeTinyPiperVoice(dir), lengthScale: 2 });
  Object.assign(node('inject', 'kitchen'), { payload: 'Once upon a time' });
  Object.assign(node('inject', 'lounge'), { payload: 'The little dog' });
  return { flow, id };
}

const typeOf = (m: Record<string, unknown>) => (m.control as ControlPayload | undefined)?.type;

/** The shipped browser-rooms flow end to end, on a Node-RED the caller started (browser-voice.test.ts). */
export function roomsFlowSuite(red: VoiceRed): (this: Mocha.Suite) => void {
  return function () {
    this.timeout(240_000);
    const dir = mkdtempSync(join(tmpdir(), 'rv-rooms-'));
    let browser: Browser;
    const pages = new Map<Room, Page>();
    let id: (type: string, room?: Room) => string;
    let flow: FlowNode[];

    before(async () => {
      // The tablets' microphones hear silence: the questions come from the flow's inject buttons.
      const silence = join(dir, 'silence.wav');
      writeFileSync(silence, encodeWav(new Int16Array(16000 * 2), 16000));
      const shipped = shippedRooms(dir);
      ({ id, flow } = shipped);
      await red.deploy(shipped.flow);
      browser = await launchVoiceChromium(silence);
      const context = await browser.newContext();
      for (const room of ROOMS) pages.set(room, await openRoom(context, red.base, room, '?processing=off'));
    });

    after(async () => {
      await browser?.close();
      await red.release();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Presses both rooms' inject buttons (the editor's own endpoint); resolves with each room's answer turn, once it plays. */
    async function askBoth(): Promise<Record<Room, string>> {
      const from = red.sent.length;
      for (const room of ROOMS) {
        const res = await fetch(`${red.base}/admin/inject/${id('inject', room)}`, { method: 'POST' });
        assert.equal(res.status, 200);
      }
      const turnOf = (room: Room) => red.sent.slice(from).find((s) => s.source === id('speaker-out', room) && typeOf(s.msg) === 'tts-start')?.msg.turnId as string | undefined;
      await until(() => ROOMS.every(turnOf), 90_000, 'both rooms playing their answers');
      return { kitchen: turnOf('kitchen') as string, lounge: turnOf('lounge') as string };
    }

    const ended = (room: Room, turnId: string) => red.from(id('speaker-out', room)).find((m) => typeOf(m) === 'tts-end' && m.turnId === turnId)?.control as ControlPayload | undefined;

    /** What piper-tts sent a room's speaker for a turn, at the cards' 16 kHz. */
    function spoken(room: Room, turnId: string): Int16Array {
      const frames = red.sent.filter((s) => s.source === id('piper-tts') && s.destination === id('speaker-out', room) && s.msg.topic === 'audio' && s.msg.turnId === turnId).map((s) => s.msg);
      const rate = (frames[0].audio as { sampleRate: number }).sampleRate;
      const pcm = Int16Array.from(frames.flatMap((f) => Array.from(bufferToInt16(f.payload as Buffer))));
      return float32ToInt16(resample(Float32Array.from(pcm, (v) => v / 32768), rate, 16000));
    }

    it('a question typed in each room is answered in that room only: each tablet plays its own answer, never the other room\'s', async () => {
      const received = async (room: Room) => (await pageState(pages.get(room) as Page)).received;
      const before = { kitchen: await received('kitchen'), lounge: await received('lounge') };
      const turns = await askBoth();
      await until(() => ROOMS.every((room) => ended(room, turns[room])), 90_000, 'both answers played');
      const replies = red.from(id('llama-llm')).filter((m) => m.topic === 'llm-reply');
      for (const room of ROOMS) {
        const reply = replies.find((m) => m.turnId === turns[room]);
        assert.ok(reply, `the ${room}'s answer is a reply of llama-llm`);
        assert.equal(reply.room, room);
        assert.equal(reply.conversationId, room, 'a conversation per room');
        assert.equal(ended(room, turns[room])?.cut, false);
        // Every stage's figures for the answer name its room: a dashboard per room reads its own.
        const stages = red.sent.filter((s) => s.msg.topic === 'metrics' && s.msg.turnId === turns[room]).map((s) => [s.msg.stage, s.msg.room]);
        assert.deepEqual([...new Set(stages.map(([stage]) => stage))].sort(), ['llm', 'speaker', 'tts']);
        assert.ok(stages.every(([, r]) => r === room), JSON.stringify(stages));
        // Each speaker reported its own room's turn only.
        const other = ROOMS.find((r) => r !== room) as Room;
        assert.equal(red.from(id('speaker-out', room)).filter((m) => m.turnId === turns[other]).length, 0, `the ${room} speaker played nothing of the ${other}'s answer`);
      }
      // Each page got its own answer's frames and no others (the tiny voice sounds alike for any text: count, not correlate),
      // and shows the last sentence of its own answer.
      for (const room of ROOMS) {
        const frames = Math.ceil(spoken(room, turns[room]).length / 320);
        const got = (await received(room)) - before[room];
        assert.ok(Math.abs(got - frames) <= 2, `the ${room} page received ${got} frames, its answer has ${frames}`);
        const said = red.sent.filter((s) => s.source === id('piper-tts') && s.destination === id('speaker-out', room) && s.msg.turnId === turns[room] && typeof s.msg.text === 'string').map((s) => s.msg.text as string);
        assert.equal(await (pages.get(room) as Page).textContent('#said'), said[said.length - 1]);
      }
    });

    it('the kitchen talks over its answer: asr\'s speech-start cuts the kitchen\'s answer, the lounge\'s plays to its end', async () => {
      const turns = await askBoth();
      // What the kitchen's asr sends on its control wire when the user starts talking (its microphone hears silence here).
      const asrControl = (flow.find((n) => n.id === id('asr', 'kitchen')) as FlowNode).wires?.[1] ?? [];
      assert.deepEqual([...asrControl].sort(), [id('llama-llm'), id('piper-tts'), id('speaker-out', 'kitchen')].sort(), 'asr control reaches the assistant, the voice and its own speaker');
      const start = makeControl('speech-start', newTurnId(), { source: 'asr', room: 'kitchen' });
      for (const target of asrControl) red.inject(target, start);
      await until(() => ROOMS.every((room) => ended(room, turns[room])), 90_000, 'both turns over');
      assert.equal(ended('kitchen', turns.kitchen)?.cut, true, 'the kitchen answer was cut');
      const lounge = ended('lounge', turns.lounge) as ControlPayload;
      assert.equal(lounge.cut, false, 'the lounge answer played on');
      const audioMs = (spoken('lounge', turns.lounge).length / 16000) * 1000;
      assert.ok(Math.abs((lounge.playedMs ?? 0) - audioMs) <= 60, `the lounge played ${lounge.playedMs} ms of ${audioMs.toFixed(0)}`);
    });
  };
}
