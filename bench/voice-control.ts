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
 * With gemma-3-270m installed ($VOICE_MODELS_DIR, scripts/test-models.sh),
 * median of 5: the embedded engine in the same flow, a grammar-forced call
 * (msg.toolChoice "required", set_light alone), end of question → the
 * tool-call message; baseline: node-llama-cpp's LlamaChat called bare with
 * the same system prompt, question, grammar, threads and context, until its
 * JSON is complete, run right after each flow turn.
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
import { importEsm } from '../lib/esm';
import { callSchema } from '../lib/llm/embedded-engine';
import type { ToolDefinition } from '../lib/llm/tools';
import { defaultThreads } from '../lib/llm/cpu-cores';
import { systemPrompt } from '../nodes/llama-llm/controller';
import { styleText } from '../nodes/llama-llm/styles';
import { GEMMA_LLM, installedModel } from '../test/support/real-models';
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
    await helper.unload();
    return [
      { bench: 'voice-control', metric: 'end of question → tool-call message (median)', value: median(toCall), unit: 'ms', baseline: median(toSentence) },
      { bench: 'voice-control', metric: 'tool result → first audio frame (median)', value: median(resultToAudio), unit: 'ms', baseline: median(questionToAudio) },
      ...(await forcedCall(dir)),
    ];
  } finally {
    await helper.unload();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const GEMMA_TURNS = 5;
const QUESTION = 'Turn on the kitchen light';

/** The forced call on the real gemma-3-270m: through the flow, and node-llama-cpp bare. */
async function forcedCall(dir: string): Promise<BenchRow[]> {
  const gemma = installedModel(GEMMA_LLM);
  if (!gemma) {
    process.stderr.write(`voice-control: skipped: no model ${GEMMA_LLM} for the embedded rows\n`);
    return [];
  }
  const modelPath = join(gemma, 'model.gguf');
  const threads = defaultThreads();
  const { flow, id, tap } = voiceControlFlow({ url: '', modelPath, threads, contextSize: 1024, maxTokens: 24, temperature: 0 }, writeTinyPiperVoice(dir, 'voice-2'), join(dir, 'gemma.wav'));
  const assistant = flow.find((n) => n.id === id('assistant'))!;
  const setLight = (JSON.parse(assistant.tools as string) as ToolDefinition[]).filter((t) => t.name === 'set_light');
  assistant.tools = JSON.stringify(setLight);
  const ended = tap('speaker', 0);
  await helper.load([llamaLlm, piperTts, speakerOut, soundCard, ...CORE_NODES], flow as never);
  const house = marks(id('house'));
  const replies = marks(id('full reply'));
  const spokenEnds = marks(ended);
  const ttsEnds = () => spokenEnds.filter((x) => (x.msg.control as { type?: string } | undefined)?.type === 'tts-end').length;
  // The bare side: the same model, prompt and grammar, no node.
  const lib = await importEsm<typeof import('node-llama-cpp')>('node-llama-cpp');
  const llama = await lib.getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: lib.LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 1024, threads });
  const chat = new lib.LlamaChat({ contextSequence: context.getSequence() });
  const grammar = await llama.createGrammarForJsonSchema(callSchema(setLight) as never);
  const system = systemPrompt({ systemPrompt: assistant.systemPrompt as string, style: styleText(assistant.style as string, assistant.customStyle as string) });
  const history = [{ type: 'system' as const, text: system }, { type: 'user' as const, text: QUESTION }, { type: 'model' as const, response: [] }];
  const flowMs: number[] = [];
  const bareMs: number[] = [];
  try {
    for (let i = 0; i <= GEMMA_TURNS; i++) {
      const endsBefore = ttsEnds();
      const t0 = performance.now();
      helper.getNode(id('assistant')).receive({ payload: QUESTION, speaker: { name: 'alice', score: 1 }, toolChoice: 'required', conversationId: `gemma-${i}` } as never);
      await until(() => house.some((x) => x.at >= t0), 120_000, 'the forced call');
      const called = house.find((x) => x.at >= t0)!.at - t0;
      // The bare run waits for the turn to be over, spoken too, so the two never share the CPUs.
      await until(() => replies.some((x) => x.at >= t0), 180_000, 'the reply');
      if (String(replies.find((x) => x.at >= t0)!.msg.payload).trim()) await until(() => ttsEnds() > endsBefore, 60_000, 'the reply to be spoken');
      const b0 = performance.now();
      await chat.generateResponse(history, { grammar, maxTokens: 160, temperature: 0 });
      const bare = performance.now() - b0;
      if (i === 0) continue; // warm-up
      flowMs.push(called);
      bareMs.push(bare);
    }
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
  return [{ bench: 'voice-control', metric: `${GEMMA_LLM} forced call: end of question → tool-call message (median of ${GEMMA_TURNS})`, value: median(flowMs), unit: 'ms', baseline: median(bareMs) }];
}

runAsScript(module, run);
