import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { makeControl, type ControlPayload } from '../../lib/messages/control';
import asr from '../../nodes/asr/asr';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import micIn from '../../nodes/mic-in/mic-in';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import voiceprint from '../../nodes/voiceprint/voiceprint';
import { collect, lastStatus, statusesOf } from '../support/node-red';
import { shippedFlow } from '../support/shipped-flow';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { CARD_RATE, recordSpeaker, soundingSamples as sounding, startVirtualCard, stopVirtualCard, useVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER } from '../support/virtual-card';
import { sleep, until } from '../support/wait';

helper.init(require.resolve('node-red'));

type Control = { control: ControlPayload };
const NODES = [micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard];

/**
 * The user speaks over the assistant at the moment the sound device goes
 * away (a USB card unplugged; here PulseAudio stopped), in either order
 * within one tick: the barge-in lands on a stream that is already dead, or
 * the device dies just after the cut.
 */
describe('fault matrix: the sound device lost during a barge-in (shipped flow on the virtual sound card, tiny models)', function () {
  this.timeout(120_000);
  useVirtualCard();
  const dir = mkdtempSync(join(tmpdir(), 'rv-fault-device-'));
  const models = { asrDir: writeTinyAsrModel(dir), voice: writeTinyPiperVoice(dir), speakerModel: writeTinySpeakerModel(dir) };
  const escaped: unknown[] = [];
  const onEscape = (err: unknown) => escaped.push(err);

  beforeEach(() => {
    escaped.length = 0;
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
  });
  afterEach(async () => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
    await helper.unload();
    // The next case (or suite) finds the card up.
    startVirtualCard();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const order of ['the device dies, then the barge-in', 'the barge-in, then the device dies'] as const) {
    it(`${order}: the cut turn ends (cut), the status says so, nothing stale plays when the card is back, and the next turn plays on it`, async () => {
      const shipped = shippedFlow(models, { device: VIRTUAL_MIC }, { device: VIRTUAL_SPEAKER });
      // A long reply, to talk over.
      Object.assign(shipped.byType('llama-llm'), { maxTokens: 200 });
      const ids = { mic: shipped.byType('mic-in').id, asr: shipped.byType('asr').id, llm: shipped.byType('llama-llm').id, speaker: shipped.byType('speaker-out').id };
      await helper.load(NODES, shipped.flow as never);
      const speakerControl = collect<Control>('tap-speaker-control');
      const ended = (turnId: string) => speakerControl.find((c) => c.control.type === 'tts-end' && c.control.turnId === turnId)?.control;

      helper.getNode(ids.llm).receive({ payload: 'Once upon a time', turnId: 't-long' } as never);
      await until(() => speakerControl.some((c) => c.control.type === 'tts-start' && c.control.turnId === 't-long'), 60_000, 'the assistant to start speaking');
      await sleep(500);
      assert.equal(ended('t-long'), undefined, 'the reply is still playing');

      // What asr sends when it hears the user: the barge-in, to llama-llm, piper-tts and speaker-out.
      const shownBefore = { [ids.speaker]: statusesOf(ids.speaker).length, [ids.mic]: statusesOf(ids.mic).length };
      const bargeIn = () => helper.getNode(ids.asr).send([null, makeControl('speech-start', 'u-over', { source: 'asr' }), null] as never);
      if (order === 'the device dies, then the barge-in') {
        stopVirtualCard();
        bargeIn();
      } else {
        bargeIn();
        stopVirtualCard();
      }
      await until(() => ended('t-long') !== undefined, 10_000, 'the cut turn to end');
      assert.equal(ended('t-long')?.cut, true, 'the turn the user spoke over is cut');
      const lostShown = (id: string) => statusesOf(id).slice(shownBefore[id]).some((s) => s.fill === 'red' && s.text === 'device lost');
      await until(() => lostShown(ids.speaker), 10_000, `speaker-out to say the device is lost (${lastStatus(ids.speaker).text})`);
      assert.ok(lostShown(ids.mic), 'mic-in (same card) says so too');
      // The user's utterance ends while the card is gone (it said nothing asr could transcribe).
      helper.getNode(ids.asr).send([null, makeControl('speech-end', 'u-over', { source: 'asr' }), null] as never);
      await sleep(1000);

      startVirtualCard();
      const recorder = recordSpeaker();
      await until(() => lastStatus(ids.speaker).fill === 'green', 40_000, `the card to reopen (${lastStatus(ids.speaker).text})`);
      await sleep(1500);
      const afterReopen = await recorder.stop();
      assert.equal(sounding(afterReopen), 0, `${sounding(afterReopen)} samples of sound on the speaker when the card came back, before any new turn`);
      assert.equal(speakerControl.filter((c) => c.control.turnId === 't-long').length, 2, 'one tts-start and one tts-end for the cut turn, no replay');

      const next = recordSpeaker();
      helper.getNode(ids.llm).receive({ payload: 'Once upon a time', turnId: 't-next' } as never);
      await until(() => ended('t-next') !== undefined, 60_000, 'the next turn to play');
      await sleep(300);
      const heard = await next.stop();
      assert.equal(ended('t-next')?.cut, false, 'the next turn played to its end');
      assert.ok(sounding(heard) > CARD_RATE / 10, `the next turn is on the speaker (${sounding(heard)} sounding samples)`);
      assert.deepEqual(escaped, [], 'no exception escaped');
    });
  }
});
