/**
 * Voice control through the shipped voice-control flow in a real Node-RED
 * runtime (a local server on 127.0.0.1 speaking OpenAI's tool-call stream,
 * the function node that is the house, piper-tts with the tiny test voice,
 * a WAV file as the speaker). Median of 10 turns each, interleaved, marks
 * taken with performance.now() as a node receives a message:
 * - end of question (llama-llm receives the typed text) → the tool-call
 *   message (the house receives it). Baseline: the same, for a question the
 *   model answers in words, up to its first chunk reaching piper-tts: one
 *   request and one streamed reply either way, so the ratio is what handling a
 *   call (arguments gathered, the message made and sent) costs over a sentence;
 * - tool result (llama-llm receives msg.toolResult) → first audio frame
 *   (speaker-out receives it). Baseline: end of question → first audio frame
 *   for the same words asked without tools: after a result the model is asked
 *   again, so the ratio says whether going on costs more than a fresh turn.
 */
import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import llamaLlm from '../nodes/llama-llm/llama-llm';
import piperTts from '../nodes/piper-tts/piper-tts';
import soundCard from '../nodes/sound-card/sound-card';
import speakerOut from '../nodes/speaker-out/speaker-out';
import { writeTinyPiperVoice } from '../test/support/tiny-piper-voice';
import { toolCallingServer, type StreamedToolCall } from '../test/support/tool-call-sse';
import { CORE_NODES, voiceControlFlow } from '../test/support/voice-control-flow';
import { until } from '../test/support/wait';
import { runAsScript, type BenchRow } from './table';

const TURNS = 10;
const CONFIRMATION = ['The kitchen', ' light is on.'];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
type Msg = Record<string, unknown>;

/** performance.now() of every message a node receives from now on, with the message. */
function marks(id: string): { at: number; msg: Msg }[] {
  const got: { at: number; msg: Msg }[] = [];
  (helper.getNode(id) as unknown as EventEmitter).on('input', (msg: Msg) => got.push({ at: performance.now(), msg }));
  return got;
}

export async function run(): Promise<BenchRow[]> {
  helper.init(require.resolve('node-red'));
  const dir = mkdtempSync(join(tmpdir(), 'rv-bench-vc-'));
  let calls: StreamedToolCall[] = [];
  const server = await toolCallingServer(
    () => calls,
    () => CONFIRMATION,
  );
  try {
    const { flow, id, tap } = voiceControlFlow({ url: server.base }, writeTinyPiperVoice(dir), join(dir, 'speaker.wav'));
    const ended = tap('speaker', 0);
    await helper.load([llamaLlm, piperTts, speakerOut, soundCard, ...CORE_NODES], flow as never);
    const llm = helper.getNode(id('assistant'));
    const into = { llm: marks(id('assistant')), house: marks(id('house')), tts: marks(id('text to speech')), speaker: marks(id('speaker')), ended: marks(ended) };
    const toCall: number[] = [];
    const toSentence: number[] = [];
    const resultToAudio: number[] = [];
    const questionToAudio: number[] = [];
    const since = (list: { at: number; msg: Msg }[], t: number, pick: (m: Msg) => boolean = () => true) => list.find((x) => x.at >= t && pick(x.msg))!.at - t;
    const isAudio = (m: Msg) => Buffer.isBuffer(m.payload);
    for (let i = 0; i <= TURNS; i++) {
      for (const tools of [true, false]) {
        calls = tools ? [{ id: `call_${i}`, name: 'set_light', arguments: { room: 'kitchen', on: i % 2 === 0 } }] : [];
        const endsBefore = into.ended.filter((x) => (x.msg.control as { type?: string } | undefined)?.type === 'tts-end').length;
        const t0 = performance.now();
        llm.receive({ payload: 'Turn on the kitchen light', speaker: { name: 'alice', score: 1 }, conversationId: `bench-${i}-${tools}` } as never);
        await until(() => into.ended.filter((x) => (x.msg.control as { type?: string } | undefined)?.type === 'tts-end').length > endsBefore, 20_000, 'the turn to be spoken');
        if (i === 0) continue; // warm-up: the voice loads, the connection opens
        if (tools) {
          toCall.push(since(into.house, t0));
          const result = into.llm.find((x) => x.at >= t0 && 'toolResult' in x.msg)!.at;
          resultToAudio.push(since(into.speaker, result, isAudio));
        } else {
          toSentence.push(since(into.tts, t0));
          questionToAudio.push(since(into.speaker, t0, isAudio));
        }
      }
    }
    return [
      { bench: 'voice-control', metric: 'end of question → tool-call message (median)', value: median(toCall), unit: 'ms', baseline: median(toSentence) },
      { bench: 'voice-control', metric: 'tool result → first audio frame (median)', value: median(resultToAudio), unit: 'ms', baseline: median(questionToAudio) },
    ];
  } finally {
    await helper.unload();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

runAsScript(module, run);
