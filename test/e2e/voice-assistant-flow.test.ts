import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToInt16 } from '../../lib/audio/pcm';
import { parseWav } from '../../lib/audio/wav';
import type { ControlPayload } from '../../lib/messages/control';
import asr from '../../nodes/asr/asr';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import micIn from '../../nodes/mic-in/mic-in';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import voiceprint from '../../nodes/voiceprint/voiceprint';
import { collect } from '../support/node-red';
import { TESTDATA } from '../support/paths';
import { loudSpan } from '../support/signal';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { shippedFlow } from '../support/shipped-flow';
import { sleep, until } from '../support/wait';

helper.init(require.resolve('node-red'));

type Control = { control: ControlPayload };


describe('the shipped voice-assistant flow, end to end (tiny models, WAV microphone and speaker)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-va-'));
  const models = { asrDir: writeTinyAsrModel(dir), voice: writeTinyPiperVoice(dir), speakerModel: writeTinySpeakerModel(dir) };
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => helper.unload());

  it('speech in the microphone gives VAD events, a transcript, an LLM reply and audio out of the speaker', async () => {
    const speakerWav = join(dir, 'spoken.wav');
    const { flow, byType } = shippedFlow(models, join(TESTDATA, 'arctic_aew_a0001.wav'), speakerWav);
    await helper.load([micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard], flow as never);
    const asrControl = collect<Control>('tap-asr-control');
    const speakerControl = collect<Control>('tap-speaker-control');
    const replies = collect<{ payload: string; turnId: string }>(byType('llama-llm').wires?.[1][0] as string);
    await until(() => speakerControl.some((c) => c.control.type === 'tts-end'), 90_000, 'the spoken reply to end');
    const types = asrControl.map((c) => c.control.type);
    assert.deepEqual(types.slice(0, 2), ['speech-start', 'speech-end']);
    const turnId = asrControl[0].control.turnId;
    assert.ok(replies.length >= 1 && replies[0].payload.trim().length > 0, 'llama-llm replied');
    assert.equal(replies[0].turnId, turnId, 'the reply belongs to the user turn');
    const end = speakerControl.find((c) => c.control.type === 'tts-end')?.control as ControlPayload;
    assert.equal(end.turnId, turnId);
    assert.equal(end.cut, false);
    assert.ok((end.playedMs ?? 0) > 0);
    const heard = loudSpan(float32ToInt16(parseWav(readFileSync(speakerWav)).samples), 50);
    assert.ok(heard > 0, 'the speaker file holds synthesised audio');
  });

  it('a typed question is answered and spoken', async () => {
    const speakerWav = join(dir, 'typed.wav');
    const { flow, byType } = shippedFlow(models, join(TESTDATA, 'arctic_aew_a0001.wav'), speakerWav);
    Object.assign(byType('mic-in'), { autoStart: false });
    await helper.load([micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard], flow as never);
    const speakerControl = collect<Control>('tap-speaker-control');
    helper.getNode(byType('llama-llm').id).receive({ payload: 'Once upon a time', turnId: 't-typed' } as never);
    await until(() => speakerControl.some((c) => c.control.type === 'tts-end'), 60_000, 'the spoken reply to end');
    assert.deepEqual(
      speakerControl.map((c) => [c.control.type, c.control.turnId]),
      [
        ['tts-start', 't-typed'],
        ['tts-end', 't-typed'],
      ],
    );
  });

  it('barge-in: user speech while the assistant speaks silences the speaker and cancels the turn', async () => {
    const speakerWav = join(dir, 'barge-in.wav');
    const { flow, byType } = shippedFlow(models, join(TESTDATA, 'arctic_aew_a0001.wav'), speakerWav);
    Object.assign(byType('mic-in'), { autoStart: false });
    // A long answer, spoken slowly, so the user has time to talk over it.
    Object.assign(byType('llama-llm'), { maxTokens: 200 });
    Object.assign(byType('piper-tts'), { lengthScale: 4 });
    await helper.load([micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard], flow as never);
    const asrControl = collect<Control>('tap-asr-control');
    const speakerControl = collect<Control>('tap-speaker-control');
    helper.getNode(byType('llama-llm').id).receive({ payload: 'Once upon a time', turnId: 't-long' } as never);
    await until(() => speakerControl.some((c) => c.control.type === 'tts-start'), 60_000, 'the assistant to start speaking');
    helper.getNode(byType('mic-in').id).receive({ payload: 'start' } as never);
    await until(() => speakerControl.some((c) => c.control.type === 'tts-end'), 30_000, 'the speaker to stop');
    const start = asrControl.find((c) => c.control.type === 'speech-start')?.control as ControlPayload;
    const end = speakerControl.find((c) => c.control.type === 'tts-end')?.control as ControlPayload;
    assert.ok(start, 'asr heard the user');
    assert.equal(end.turnId, 't-long');
    assert.equal(end.cut, true, 'the reply was cut, not finished');
    assert.ok(end.ts - start.ts < 100, `speaker silent ${end.ts - start.ts} ms after speech-start`);
    // Nothing more of the cancelled turn is played (the user's own turn may be answered meanwhile).
    await sleep(1000);
    assert.equal(speakerControl.filter((c) => c.control.turnId === 't-long').length, 2, 'no second tts-start for the cancelled turn');
    assert.ok(speakerControl.every((c) => c.control.turnId === 't-long' || c.control.turnId === start.turnId));
  });
});
