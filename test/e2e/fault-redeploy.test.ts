import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import type { ControlPayload } from '../../lib/messages/control';
import asr from '../../nodes/asr/asr';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import micIn from '../../nodes/mic-in/mic-in';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import voiceprint from '../../nodes/voiceprint/voiceprint';
import { engineProcesses } from '../support/engine-processes';
import { shippedFlow, type FlowNode } from '../support/shipped-flow';
import { micClip } from '../support/soak';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { sleep, until } from '../support/wait';

helper.init(require.resolve('node-red'));

type Msg = { turnId?: unknown; control?: ControlPayload; payload?: unknown };
const NODES = [micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard];
/** The WAV speaker's header: what the file holds before anything is played. */
const WAV_HEADER = 44;
/** A reply of several seconds on the tiny voice (64 samples per phoneme), spoken sentence by sentence. */
const LONG_TEXT = Array.from({ length: 12 }, (_, i) => `Sentence number ${i + 1} of a long announcement that keeps the speaker busy for a while.`).join(' ');

const turnOf = (m: Msg) => m.control?.turnId ?? (typeof m.turnId === 'string' ? m.turnId : undefined);

/**
 * A redeploy in the middle of every stage of the shipped flow: the old turn
 * must vanish with the old nodes (nothing of it reaches any node of the new
 * deployment, nothing of it plays), no engine process is left over, and the
 * new deployment answers typed and spoken turns.
 */
describe('fault matrix: a redeploy in the middle of every stage of the shipped flow (real runtime, tiny models, WAV microphone and speaker)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-fault-redeploy-'));
  const speakerWav = join(dir, 'speaker.wav');
  let flow: FlowNode[];
  let ids: Record<'mic' | 'asr' | 'llm' | 'tts' | 'speaker', string>;
  let taps: Record<'llmText' | 'ttsAudio', string>;
  /** Every message each node of the current deployment received, in order. */
  let received: Msg[] = [];
  let startEngines = 0;

  const inject = (id: string, msg: Record<string, unknown>) => helper.getNode(id).receive(msg as never);
  const seen = (pred: (m: Msg) => boolean) => received.some(pred);
  const control = (type: string, turnId?: string) => (m: Msg) => m.control?.type === type && (turnId === undefined || m.control.turnId === turnId);
  const tapped = (tap: string, turnId: string) => (m: Msg & { tap?: string }) => m.tap === tap && turnOf(m) === turnId;

  /** Listens to every node of the deployment just made (the old one's nodes are gone with it). */
  function watchDeployment(): void {
    received = [];
    for (const n of flow) {
      const node = helper.getNode(n.id) as unknown as EventEmitter | null;
      node?.on('input', (m: Msg) => received.push(n.id.startsWith('tap-') ? { ...m, tap: n.id } as Msg : m));
    }
  }

  /** A typed question answered to its end. */
  async function typedTurn(turnId: string): Promise<void> {
    inject(ids.llm, { payload: 'Once upon a time', turnId });
    await until(() => seen(control('tts-end', turnId)), 60_000, `the reply to ${turnId}`);
    const end = received.find(control('tts-end', turnId))?.control as ControlPayload;
    assert.equal(end.cut, false, `${turnId} played to its end`);
  }

  /** The clip played by mic-in: asr hears it, and its reply is spoken to the end. Returns the user turn. */
  async function spokenTurn(): Promise<string> {
    const before = received.length;
    inject(ids.mic, { payload: 'start' });
    await until(() => received.slice(before).some(control('speech-start')), 30_000, 'asr to hear the clip');
    const turnId = received.slice(before).find(control('speech-start'))!.control!.turnId;
    await until(() => seen(control('tts-end', turnId)), 60_000, `the reply to the spoken turn ${turnId}`);
    await until(() => seen((m) => (m as { flush?: boolean }).flush === true), 30_000, 'the clip to end');
    return turnId;
  }

  /**
   * Redeploys (the way the editor's full deploy does) and checks what the user
   * sees afterwards: silence, nothing of `oldTurn`, the engines as they were,
   * and a typed and a spoken turn that complete.
   */
  async function redeployAndCheck(oldTurn: string, stage: string): Promise<void> {
    await helper.setFlows(flow as never, 'full');
    watchDeployment();
    // Quiet for a while: a stale sentence or buffer of the old turn would show here.
    await sleep(1500);
    assert.deepEqual(received.filter((m) => turnOf(m) === oldTurn), [], `nothing of the turn cut by the redeploy (${stage}) reached a node`);
    assert.equal(statSync(speakerWav).size, WAV_HEADER, `nothing played on the speaker after the redeploy (${stage})`);
    assert.ok(!seen(control('tts-start')), 'no tts-start after the redeploy');
    await until(() => engineProcesses().length === startEngines, 30_000, `the engine processes to be ${startEngines} again (${engineProcesses().length})`);
    await typedTurn(`fresh-typed-after-${stage}`);
    const spoken = await spokenTurn();
    assert.ok(received.some(tapped(taps.llmText, spoken)), 'the spoken turn was answered');
    assert.equal(engineProcesses().length, startEngines, `engine processes after the fresh turns (${stage})`);
    assert.ok(!received.some((m) => turnOf(m) === oldTurn), `nothing of ${oldTurn} later either`);
  }

  before(async () => {
    const models = { asrDir: writeTinyAsrModel(dir), voice: writeTinyPiperVoice(dir), speakerModel: writeTinySpeakerModel(dir) };
    const shipped = shippedFlow(models, await micClip(dir), speakerWav);
    // The microphone plays its clip when told to; replies are long enough to be caught mid-stream.
    Object.assign(shipped.byType('mic-in'), { autoStart: false });
    Object.assign(shipped.byType('llama-llm'), { maxTokens: 120 });
    taps = { llmText: shipped.tap('llama-llm', 0), ttsAudio: shipped.tap('piper-tts', 0) };
    flow = shipped.flow;
    const id = (type: string) => shipped.byType(type).id;
    ids = { mic: id('mic-in'), asr: id('asr'), llm: id('llama-llm'), tts: id('piper-tts'), speaker: id('speaker-out') };
    await helper.load(NODES, flow as never);
    watchDeployment();
    await until(() => engineProcesses().length >= 3, 30_000, 'the engines to start');
    await typedTurn('warm-up');
    startEngines = engineProcesses().length;
  });
  after(async () => {
    await helper.unload();
    rmSync(dir, { recursive: true, force: true });
  });

  it('while asr hears an utterance', async () => {
    inject(ids.mic, { payload: 'start' });
    await until(() => seen(control('speech-start')), 30_000, 'asr to hear the clip');
    const turn = received.find(control('speech-start'))!.control!.turnId;
    assert.ok(!seen(control('speech-end', turn)), 'the utterance is still going on');
    await redeployAndCheck(turn, 'asr');
  });

  it('while llama-llm evaluates the prompt', async () => {
    inject(ids.llm, { payload: `${LONG_TEXT} Once upon a time`, turnId: 'old-prompt' });
    assert.ok(!seen(tapped(taps.llmText, 'old-prompt')), 'no token yet');
    await redeployAndCheck('old-prompt', 'llm-prompt');
  });

  it('while llama-llm streams its reply', async () => {
    inject(ids.llm, { payload: 'Once upon a time', turnId: 'old-stream' });
    await until(() => seen(tapped(taps.llmText, 'old-stream')), 30_000, 'the first reply chunk');
    assert.ok(!received.some((m) => tapped(taps.llmText, 'old-stream')(m) && (m as { complete?: boolean }).complete === true), 'the reply is still streaming');
    await redeployAndCheck('old-stream', 'llm-stream');
  });

  it('while piper-tts synthesises', async () => {
    inject(ids.tts, { payload: LONG_TEXT, turnId: 'old-tts' });
    await until(() => seen(tapped(taps.ttsAudio, 'old-tts')), 30_000, 'the first audio frame');
    assert.ok(!received.some((m) => tapped(taps.ttsAudio, 'old-tts')(m) && (m as { complete?: boolean }).complete === true), 'piper-tts is still synthesising');
    await redeployAndCheck('old-tts', 'tts');
  });

  it('while speaker-out plays', async () => {
    inject(ids.tts, { payload: LONG_TEXT, turnId: 'old-play' });
    await until(() => seen(control('tts-start', 'old-play')), 30_000, 'the speaker to start');
    // All of it synthesised (piper-tts marks its last frame complete): only the speaker is busy now.
    await until(() => received.some((m) => tapped(taps.ttsAudio, 'old-play')(m) && (m as { complete?: boolean }).complete === true), 30_000, 'the last audio frame');
    assert.ok(!seen(control('tts-end', 'old-play')), 'the speaker is still playing');
    await redeployAndCheck('old-play', 'speaker');
  });

  it('while the engines start (deployed twice in a row)', async () => {
    inject(ids.tts, { payload: LONG_TEXT, turnId: 'old-start' });
    await helper.setFlows(flow as never, 'full');
    // The engines of that deployment are still starting when the next one replaces it.
    await redeployAndCheck('old-start', 'engine-start');
  });
});
