import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToInt16, int16ToFloat32 } from '../../lib/audio/pcm';
import { resample } from '../../lib/audio/resample';
import { readWavMono } from '../../lib/audio/wav';
import type { ControlPayload } from '../../lib/messages/control';
import asr from '../../nodes/asr/asr';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import micIn from '../../nodes/mic-in/mic-in';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import voiceprint from '../../nodes/voiceprint/voiceprint';
import { recordPrompts } from '../support/llm-prompts';
import { collect, lastStatus, samplesOf } from '../support/node-red';
import { TESTDATA } from '../support/paths';
import { findInRecording, intactShare } from '../support/signal';
import { shippedFlow } from '../support/shipped-flow';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { CARD_RATE, playIntoMic, recordSpeakerWithClock, useVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER } from '../support/virtual-card';
import { sleep, until } from '../support/wait';

helper.init(require.resolve('node-red'));

type Control = { control: ControlPayload };
type Audio = { payload: Buffer; audio: { sampleRate: number }; turnId: string; text: string; chunkEnd?: boolean };
type Text = { payload: string; turnId: string; partial?: boolean };

const NODES = [micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard];
/** pacat's buffer for the clip: deep enough that a busy machine does not leave gaps in the "microphone". */
const MIC_LATENCY_MS = 200;
/** A sample this close to 0 is silence: the null sink when nothing plays, the tiny voice's pauses, a speaker underrun. */
const QUIET = 8;
/** Following a reply through a recording: how much of it the player may drop at once, and how long a run must match after that. */
const MAX_DROP = CARD_RATE / 10;
const RESYNC = 256;

/** The audio piper-tts sent for one turn, at the card's rate. */
function ttsAudio(frames: Audio[], turnId: string): Int16Array {
  const mine = frames.filter((f) => f.turnId === turnId);
  const joined = samplesOf(mine);
  const rate = mine[0]?.audio.sampleRate ?? CARD_RATE;
  return rate === CARD_RATE ? joined : float32ToInt16(resample(int16ToFloat32(joined), rate, CARD_RATE));
}

/** The sentences piper-tts spoke for one turn, in order, with where each one's sounding samples start and end in ttsAudio(). */
function ttsSentences(frames: Audio[], turnId: string): { text: string; start: number; end: number }[] {
  const sentences: { text: string; start: number; end: number }[] = [];
  let at = 0;
  for (const f of frames.filter((x) => x.turnId === turnId)) {
    const n = sounding(ttsAudio([f], turnId)).samples.length;
    const last = sentences.at(-1);
    if (last && last.text === f.text) last.end = at + n;
    else sentences.push({ text: f.text, start: at, end: at + n });
    at += n;
  }
  return sentences.filter((x) => x.text);
}

/**
 * The sounding samples, in order, and where each one was. Content, not timing:
 * a gap the speaker left (the machine was too busy to refill it in time) vanishes.
 */
function sounding(x: Int16Array): { samples: Int16Array; at: Int32Array } {
  const at = new Int32Array(x.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > QUIET) at[n++] = i;
  return { samples: Int16Array.from(at.subarray(0, n), (i) => x[i]), at: at.subarray(0, n) };
}

/** How many samples from `reference[from]` on the recording repeats from `at` on (allowing for rounding). */
function run(recording: Int16Array, at: number, reference: Int16Array, from: number): number {
  let n = 0;
  while (from + n < reference.length && at + n < recording.length && Math.abs(recording[at + n] - reference[from + n]) <= Math.max(QUIET, 0.02 * Math.abs(reference[from + n]))) n++;
  return n;
}

/**
 * Follows `reference` through the recording's sounding samples from `lag` on,
 * sample by sample. Where they part, the player may have dropped a few
 * milliseconds (a PulseAudio stream that ran dry skips the audio that came
 * late): if the recording goes on with the reference a little further on
 * (a run of RESYNC samples at least), it is followed from there. Returns
 * where in the recording the reference stops, how much of the reference that
 * covers, and how much of it was skipped.
 */
function follow(recording: Int16Array, reference: Int16Array, lag: number): { end: number; covered: number; dropped: number } {
  let at = lag;
  let from = 0;
  let dropped = 0;
  for (;;) {
    const n = run(recording, at, reference, from);
    at += n;
    from += n;
    if (from >= reference.length || at >= recording.length) break;
    let next = -1;
    for (let f = from + 1; f < Math.min(reference.length, from + MAX_DROP); f++) {
      if (run(recording, at, reference, f) >= Math.min(RESYNC, reference.length - f)) {
        next = f;
        break;
      }
    }
    if (next < 0) break;
    dropped += next - from;
    from = next;
  }
  return { end: at, covered: from, dropped };
}

/** Until every model of the flow is loaded (no node says it is still loading): the clip must not compete with the loading for the CPU. */
async function untilLoaded(byType: (type: string) => { id: string }): Promise<void> {
  const types = ['voiceprint', 'asr', 'llama-llm', 'piper-tts'];
  const states = () => types.map((t) => `${t}: ${lastStatus(byType(t).id).text}`).join(', ');
  await until(() => types.every((t) => ['green', 'blue', 'grey'].includes(lastStatus(byType(t).id).fill ?? '')), 60_000, `the models to load (${states()})`);
}

/** A reply on the speaker: how much of it is there (in sounding samples) and how much of that the player dropped. */
function replyOnSpeaker(recording: Int16Array, audio: Int16Array): { covered: number; dropped: number; length: number } {
  const heard = sounding(recording).samples;
  const reply = sounding(audio).samples;
  const { covered, dropped } = follow(heard, reply, findInRecording(heard, reply).lag);
  return { covered, dropped, length: reply.length };
}

describe('the shipped voice-assistant flow on the virtual sound card (tiny models, audify backend)', function () {
  this.timeout(180_000);
  useVirtualCard();
  const dir = mkdtempSync(join(tmpdir(), 'rv-va-card-'));
  const models = { asrDir: writeTinyAsrModel(dir), voice: writeTinyPiperVoice(dir), speakerModel: writeTinySpeakerModel(dir) };
  let clip: Int16Array;
  /** Where the speech starts in the clip, in samples. */
  let clipOnset: number;
  let prompts: ReturnType<typeof recordPrompts>;

  before(async () => {
    const wav = await readWavMono(join(TESTDATA, 'arctic_aew_a0001.wav'));
    clip = float32ToInt16(wav.sampleRate === CARD_RATE ? wav.samples : resample(wav.samples, wav.sampleRate, CARD_RATE));
    clipOnset = clip.findIndex((v) => Math.abs(v) > 1000);
  });
  beforeEach(() => (prompts = recordPrompts()));
  afterEach(async () => {
    prompts?.restore();
    await helper.unload();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** The shipped flow with its sound-card node on the virtual microphone and speaker, and taps on what the test checks. */
  function cardFlow() {
    const shipped = shippedFlow(models, { device: VIRTUAL_MIC }, { device: VIRTUAL_SPEAKER });
    assert.equal(shipped.byType('sound-card').backend, 'audify', 'the shipped flow uses the default backend');
    // Turns end by silence, as where no turn model is installed: with Smart Turn v3 installed (CI has it),
    // the model may end the user's turn at the clip's first comma, its second half then cuts the answer
    // to the first, and which of the two the speaker plays depends on the model's verdict (test/lib/turn's job).
    Object.assign(shipped.byType('asr'), { endOfTurn: 'silence' });
    const taps = {
      mic: shipped.tap('mic-in', 0),
      transcripts: shipped.tap('asr', 0),
      chunks: shipped.tap('llama-llm', 0),
      replies: shipped.byType('llama-llm').wires?.[1][0] as string,
      tts: shipped.tap('piper-tts', 0),
    };
    return { ...shipped, taps };
  }

  async function load(flow: unknown[], taps: ReturnType<typeof cardFlow>['taps']) {
    await helper.load(NODES, flow as never);
    return {
      asrControl: collect<Control>('tap-asr-control'),
      speakerControl: collect<Control>('tap-speaker-control'),
      mic: collect<{ payload?: Buffer }>(taps.mic),
      transcripts: collect<Text>(taps.transcripts),
      chunks: collect<Text>(taps.chunks),
      replies: collect<Text>(taps.replies),
      tts: collect<Audio>(taps.tts),
    };
  }

  it('speech played into the microphone gives VAD events, a transcript, an LLM reply, and that reply on the speaker', async () => {
    const { flow, taps, byType } = cardFlow();
    const recorder = recordSpeakerWithClock();
    const got = await load(flow, taps);
    await until(() => got.mic.length > 10, 20_000, 'the microphone to open');
    await untilLoaded(byType);
    await playIntoMic(clip, { latencyMs: MIC_LATENCY_MS });
    await until(() => got.speakerControl.some((c) => c.control.type === 'tts-end'), 90_000, 'the spoken reply to end');
    await sleep(500);
    const { samples: recording } = await recorder.stop();

    // The microphone heard the clip through the card.
    const heardByMic = samplesOf(got.mic);
    // (Piecewise: a machine this busy sometimes starves the virtual card for a few milliseconds.)
    const inMic = intactShare(heardByMic, clip, CARD_RATE / 4);
    console.log(`      mic-in: ${(inMic * 100).toFixed(0)} % of the clip intact`);
    assert.ok(inMic >= 0.75, `${(inMic * 100).toFixed(0)} % of the clip's quarter-seconds are intact in mic-in's frames`);

    assert.deepEqual(got.asrControl.map((c) => c.control.type).slice(0, 2), ['speech-start', 'speech-end']);
    const turnId = got.asrControl[0].control.turnId;
    assert.equal(got.asrControl[1].control.turnId, turnId);
    const transcript = got.transcripts.find((t) => !t.partial);
    assert.ok(transcript && transcript.payload.trim().length > 0, `asr sent a transcript: ${JSON.stringify(got.transcripts)}`);
    assert.equal(transcript.turnId, turnId);
    assert.ok(got.replies.length >= 1 && got.replies[0].payload.trim().length > 0, 'llama-llm replied');
    assert.equal(got.replies[0].turnId, turnId, 'the reply belongs to the user turn');
    const userPrompt = prompts.prompts.at(-1)?.at(-1);
    assert.deepEqual(userPrompt, { role: 'user', content: transcript.payload.trim() }, 'the transcript is what the model was asked');

    const end = got.speakerControl.find((c) => c.control.type === 'tts-end')?.control as ControlPayload;
    assert.equal(end.turnId, turnId);
    assert.equal(end.cut, false);
    // What piper-tts sent is what the virtual speaker played, all of it.
    const onSpeaker = replyOnSpeaker(recording, ttsAudio(got.tts, turnId));
    assert.ok(onSpeaker.length > 0, 'piper-tts spoke the reply');
    assert.equal(onSpeaker.covered, onSpeaker.length, 'the reply played to its end');
    assert.ok(onSpeaker.dropped <= onSpeaker.length / 20, `${onSpeaker.dropped} of ${onSpeaker.length} samples missing`);
    console.log(`      "${transcript.payload}" → "${got.replies[0].payload}": ${((end.playedMs ?? 0) / 1000).toFixed(1)} s on the speaker`);
  });

  it('a typed question is answered on the speaker', async () => {
    const { flow, byType, taps } = cardFlow();
    Object.assign(byType('mic-in'), { autoStart: false });
    const recorder = recordSpeakerWithClock();
    const got = await load(flow, taps);
    helper.getNode(byType('llama-llm').id).receive({ payload: 'Once upon a time', turnId: 't-typed' } as never);
    await until(() => got.speakerControl.some((c) => c.control.type === 'tts-end'), 90_000, 'the spoken reply to end');
    await sleep(500);
    const { samples: recording } = await recorder.stop();
    assert.deepEqual(
      got.speakerControl.map((c) => [c.control.type, c.control.turnId, c.control.cut]),
      [
        ['tts-start', 't-typed', undefined],
        ['tts-end', 't-typed', false],
      ],
      'one tts-start and one tts-end for the whole reply',
    );
    assert.equal(got.asrControl.length, 0, 'nobody spoke');
    const onSpeaker = replyOnSpeaker(recording, ttsAudio(got.tts, 't-typed'));
    assert.ok(onSpeaker.length > 0, 'piper-tts spoke the reply');
    assert.equal(onSpeaker.covered, onSpeaker.length, 'the reply played to its end');
    assert.ok(onSpeaker.dropped <= onSpeaker.length / 20, `${onSpeaker.dropped} of ${onSpeaker.length} samples missing`);
  });

  it('barge-in: speech into the microphone while the assistant speaks silences the speaker, cuts the turn, and the history keeps what was heard', async () => {
    const { flow, byType, taps } = cardFlow();
    // A long answer, so the user has time to talk over it.
    Object.assign(byType('llama-llm'), { maxTokens: 200 });
    const recorder = recordSpeakerWithClock();
    const got = await load(flow, taps);
    await until(() => got.mic.length > 10, 20_000, 'the microphone to open');
    await untilLoaded(byType);
    helper.getNode(byType('llama-llm').id).receive({ payload: 'Once upon a time', turnId: 't-long' } as never);
    await until(() => got.speakerControl.some((c) => c.control.type === 'tts-start'), 60_000, 'the assistant to start speaking');
    await sleep(1000);
    assert.ok(!got.speakerControl.some((c) => c.control.type === 'tts-end'), 'the answer is still being spoken when the user talks');
    const playedAt = performance.now();
    await playIntoMic(clip, { latencyMs: MIC_LATENCY_MS });
    await until(() => got.speakerControl.some((c) => c.control.type === 'tts-end'), 30_000, 'the speaker to stop');
    const start = got.asrControl.find((c) => c.control.type === 'speech-start')?.control as ControlPayload;
    assert.ok(start, 'asr heard the user');
    const userTurn = start.turnId;
    // The user's own question is answered: its prompt shows the history, its audio follows the cut on the speaker.
    await until(() => got.speakerControl.some((c) => c.control.type === 'tts-start' && c.control.turnId === userTurn), 60_000, 'the answer to the user');
    await sleep(1500);
    const { samples: recording, startedAt } = await recorder.stop();

    const end = got.speakerControl.find((c) => c.control.type === 'tts-end')?.control as ControlPayload;
    assert.equal(end.turnId, 't-long');
    assert.equal(end.cut, true, 'the reply was cut, not finished');
    assert.equal(got.speakerControl.filter((c) => c.control.turnId === 't-long').length, 2, 'no second tts-start for the cancelled turn');

    // On the speaker: the long answer as piper-tts sent it, up to a point; then nothing until the answer to the user.
    const heard = sounding(recording);
    const long = sounding(ttsAudio(got.tts, 't-long')).samples;
    const { lag } = findInRecording(heard.samples, long);
    const cut = follow(heard.samples, long, lag);
    assert.ok(cut.end > lag && heard.at[cut.end - 1] - heard.at[lag] > CARD_RATE / 2, `half a second of the long answer on the speaker, as piper-tts sent it (${cut.end - lag} samples)`);
    assert.ok(cut.dropped <= cut.covered / 20, `${cut.dropped} of ${cut.covered} samples missing`);
    // Then the answer to the user (its start: that one may be cut in turn, should the clip hold two utterances).
    const answer = sounding(ttsAudio(got.tts, userTurn)).samples;
    assert.ok(answer.length > 0, 'piper-tts spoke the answer to the user');
    const head = answer.subarray(0, CARD_RATE / 4);
    // (Where the cut answer happens to go on as the next one starts, the cut is where the answer to the user starts.)
    let answerAt = -1;
    for (let at = Math.max(0, cut.end - RESYNC); answerAt < 0 && at < Math.min(heard.samples.length, cut.end + CARD_RATE); at++) {
      if (run(heard.samples, at, head, 0) >= RESYNC) answerAt = at;
    }
    const events = JSON.stringify([...got.asrControl, ...got.speakerControl].map((c) => [c.control.type, c.control.turnId, c.control.ts]));
    assert.ok(answerAt >= 0, `the answer to the user is on the speaker after the cut; ${events}`);
    assert.ok(answerAt <= cut.end, `${answerAt - cut.end} sounding samples of something else between the cut and the answer to the user`);
    const answered = follow(heard.samples, head, answerAt);
    assert.ok(answered.covered === head.length && answered.dropped <= head.length / 20, `the answer to the user as piper-tts sent it (${answered.covered} of ${head.length} samples); ${events}`);
    const heardUntil = heard.at[answerAt - 1];

    const onsetAt = playedAt + (clipOnset / CARD_RATE) * 1000;
    const silentAfter = startedAt + (heardUntil / CARD_RATE) * 1000 - onsetAt;
    const heardMs = ((heardUntil - heard.at[lag]) / CARD_RATE) * 1000;
    console.log(`      speaker silent ${silentAfter.toFixed(0)} ms after the speech onset (speech-start → tts-end ${end.ts - start.ts} ms); heard ${heardMs.toFixed(0)} ms (${((cut.dropped / CARD_RATE) * 1000).toFixed(0)} ms dropped), speaker-out says ${end.playedMs} ms`);
    assert.ok(silentAfter < 1500, `the speaker went silent ${silentAfter.toFixed(0)} ms after the user started speaking`);

    // What speaker-out says was heard is what the recording holds: every sentence played to its end, none of those never reached.
    const words = (s: string) => s.split(/\s+/).filter(Boolean);
    const spoken = end.spokenText ?? '';
    const said = got.chunks.filter((c) => c.turnId === 't-long').map((c) => c.payload).join(' ');
    assert.ok(words(spoken).length > 0, 'some of the answer was heard');
    assert.ok(words(spoken).length < words(said).length, `only part of the answer was heard: "${spoken}" of "${said}"`);
    assert.deepEqual(words(spoken), words(said).slice(0, words(spoken).length), 'what was heard is the start of the answer');
    // (Give or take the last tenth of a second: the speaker's buffers and the sounding samples count the same audio a little differently.)
    const sentences = ttsSentences(got.tts, 't-long');
    const slack = CARD_RATE / 20;
    const played = sentences.filter((x) => x.end <= cut.covered - slack).flatMap((x) => words(x.text));
    const reached = sentences.filter((x) => x.start < cut.covered + slack).flatMap((x) => words(x.text));
    assert.ok(words(spoken).length >= played.length && words(spoken).length <= reached.length, `speaker-out says "${spoken}" was heard; the recording holds ${played.length} to ${reached.length} words of "${said}"`);
    assert.deepEqual(words(spoken).slice(0, played.length), played);

    // The history keeps only what was heard: the prompt of the user's turn has the cut answer as speaker-out reported it.
    await until(() => prompts.prompts.some((p) => p.some((m) => m.role === 'assistant')), 30_000, 'the prompt of the user turn');
    const prompt = prompts.prompts.find((p) => p.some((m) => m.role === 'assistant')) as { role: string; content: string }[];
    // And the user turn asks what the user said.
    const transcript = got.transcripts.find((t) => !t.partial && t.turnId === userTurn);
    assert.ok(transcript, 'the user turn has a final transcript');
    assert.deepEqual(
      prompt.filter((m) => m.role !== 'system'),
      [
        { role: 'user', content: 'Once upon a time' },
        { role: 'assistant', content: spoken },
        { role: 'user', content: transcript.payload.trim() },
      ],
    );
  });
});
