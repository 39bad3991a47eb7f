/**
 * llama-llm: first-token latency and tokens/s through the node's controller
 * versus node-llama-cpp called bare, same model and settings, same process.
 * Also how fast an interrupt stops a generation, when the first TTS chunk is
 * ready (first clause against sentences only), and the sentence chunker's
 * cost per token. The model: $BENCH_GGUF, else gemma-3-270m when installed in
 * $VOICE_MODELS_DIR (scripts/test-models.sh), else stories260K. Where a
 * llama-server exists ($LLAMA_SERVER_BIN or on the PATH), the node's server
 * engine on it, serving the same model on the same threads, against the same
 * bare baseline.
 */
import { basename, join } from 'node:path';
import { importEsm } from '../lib/esm';
import { SentenceChunker } from '../lib/text/sentence-chunker';
import { LlmController, type LlmOutputs, type LlmSettings } from '../nodes/llama-llm/controller';
import { defaultThreads } from '../lib/llm/cpu-cores';
import { EmbeddedEngine } from '../lib/llm/embedded-engine';
import type { LlmEngine } from '../lib/llm/engine';
import type { LlmMetrics } from '../nodes/llama-llm/metrics';
import { ConversationMemory } from '../lib/llm/memory';
import { ServerEngine } from '../lib/llm/server-engine';
import { llamaServerBin, LlamaServerProcess } from '../test/support/llama-server-process';
import { GEMMA_LLM, installedModel } from '../test/support/real-models';
import type { BenchRow } from './table';

const SHARED = process.env.VOICE_SHARED_DIR ?? join(__dirname, '..', '..', 'shared');
const GEMMA = installedModel(GEMMA_LLM);
const MODEL = process.env.BENCH_GGUF ?? (GEMMA ? join(GEMMA, 'model.gguf') : join(SHARED, 'models', 'llm', 'stories260K.gguf'));
/** The catalog name for the model's folder, else the file's name. */
const MODEL_NAME = MODEL === join(GEMMA ?? '', 'model.gguf') ? GEMMA_LLM : basename(MODEL, '.gguf');
/** The node's default: what a user gets without touching the setting. */
const THREADS = defaultThreads();
const TURNS = 10;
const MAX_TOKENS = 64;
const PROMPT = 'Tell me a story about a cat.';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ignore = () => undefined;

async function bare(): Promise<{ firstMs: number[]; tps: number[] }> {
  const lib = await importEsm<typeof import('node-llama-cpp')>('node-llama-cpp');
  const llama = await lib.getLlama({ gpu: false, build: 'never', maxThreads: THREADS, logLevel: lib.LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: MODEL });
  const context = await model.createContext({ contextSize: 512, threads: THREADS });
  const session = new lib.LlamaChatSession({ contextSequence: context.getSequence() });
  const firstMs: number[] = [];
  const tps: number[] = [];
  for (let i = 0; i <= TURNS; i++) {
    session.setChatHistory([]);
    const t0 = performance.now();
    let first = 0;
    let tokens = 0;
    await session.prompt(PROMPT, {
      maxTokens: MAX_TOKENS,
      temperature: 0,
      // Streaming text, as any voice use of the engine must (detokenising has its own cost).
      onToken: (t) => {
        tokens += t.length;
      },
      onTextChunk: () => {
        first ||= performance.now();
      },
    });
    if (i === 0) continue; // warm-up
    firstMs.push(first - t0);
    tps.push((tokens - 1) / ((performance.now() - first) / 1000));
  }
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return { firstMs, tps };
}

/** A controller as the node builds it, with an empty system prompt so the prompt equals the bare one. */
function controller(engine: LlmEngine, maxTokens: number, outputs: Partial<LlmOutputs>, chunkChars = 200): LlmController {
  // A fresh memory per turn, as the bare run starts each prompt from an empty history.
  const memory = new ConversationMemory({ tokenBudget: 400, summariseAfter: 8 }, (t) => engine.countTokens(t));
  const settings: LlmSettings = {
    systemPrompt: '',
    style: '',
    sampling: { maxTokens, temperature: 0, topK: 40, topP: 0.95, lowLatency: true },
    chunker: { maxChars: chunkChars },
    maxInputChars: 4000,
  };
  return new LlmController(engine, memory, settings, { chunk: ignore, metrics: ignore, reply: ignore, toolCall: ignore, control: ignore, status: ignore, warn: ignore, ...outputs });
}

/** `engine` (not started) through the node's controller; closes it. */
async function throughNode(engine: LlmEngine): Promise<{ firstMs: number[]; tps: number[] }> {
  await engine.start([{ role: 'user', content: 'Hello' }]);
  const firstMs: number[] = [];
  const tps: number[] = [];
  for (let i = 0; i <= TURNS; i++) {
    let metrics: LlmMetrics | undefined;
    await controller(engine, MAX_TOKENS, { metrics: (m) => (metrics = m.payload as LlmMetrics) }).handle({ payload: PROMPT });
    if (i === 0 || !metrics) continue;
    firstMs.push(metrics.first_token_latency_total_ms!);
    tps.push(metrics.generation.tokens_per_s!);
  }
  await engine.close();
  return { firstMs, tps };
}

/** Interrupt → the controller has stopped the generation; throws if anything of the turn left after it. */
async function interruptLatency(): Promise<number[]> {
  const engine = new EmbeddedEngine({ modelPath: MODEL, threads: THREADS, contextSize: 512 });
  await engine.start([{ role: 'user', content: 'Hello' }]);
  const times: number[] = [];
  for (let i = 0; i < TURNS; i++) {
    let interruptedAt = 0;
    let lastOutput = 0;
    const c: LlmController = controller(
      engine,
      400,
      {
        chunk: () => {
          lastOutput = performance.now();
          if (!interruptedAt) {
            interruptedAt = performance.now();
            void c.handle({ control: { v: 1, type: 'interrupt', turnId: `i-${i}`, ts: Date.now() } });
          }
        },
        reply: () => (lastOutput = performance.now()),
        metrics: () => (lastOutput = performance.now()),
      },
      20,
    );
    await c.handle({ payload: 'Tell me a long story.', turnId: `i-${i}` });
    times.push(performance.now() - interruptedAt);
    if (lastOutput > interruptedAt) throw new Error('output after the interrupt');
  }
  await engine.close();
  return times;
}

/** Questions a voice assistant gets: their replies' first chunk is what the user waits for. */
const VOICE_QUESTIONS = ['Is the kitchen light on?', 'What should I cook tonight?', 'How warm is it outside?', 'Can you remind me to call mum?', 'What time is it in Tokyo?', 'Tell me about the moon.', 'Should I take an umbrella?', 'What is a good name for a cat?', 'How do I boil an egg?', 'Play some music, please.'];

/**
 * First chunk ready, from the first token: the node's chunker (first clause of
 * three words) against sentences only, replayed on the same recorded stream
 * of each reply (text pieces with their arrival times), so both see the very
 * same generation.
 */
async function firstChunkAfterFirstToken(): Promise<{ clause: number[]; sentence: number[] }> {
  const engine = new EmbeddedEngine({ modelPath: MODEL, threads: THREADS, contextSize: 512 });
  await engine.start([{ role: 'user', content: 'Hello' }]);
  const clause: number[] = [];
  const sentence: number[] = [];
  const sampling = { maxTokens: MAX_TOKENS, temperature: 0, topK: 40, topP: 0.95, lowLatency: true };
  for (const question of VOICE_QUESTIONS) {
    const pieces: Array<{ at: number; text: string }> = [];
    await engine.generate({ messages: [{ role: 'user', content: question }], sampling, signal: new AbortController().signal, onText: (text) => pieces.push({ at: performance.now(), text }) });
    if (!pieces.length) continue;
    const ready = (firstClauseWords: number) => {
      const chunker = new SentenceChunker({ firstMaxChars: 60, maxChars: 200, firstClauseWords });
      // The reply's end counts as ready: then the whole reply is its first chunk.
      return (pieces.find((p) => chunker.push(p.text).length > 0) ?? pieces.at(-1)!).at - pieces[0].at;
    };
    clause.push(ready(3));
    sentence.push(ready(0));
  }
  await engine.close();
  return { clause, sentence };
}

function chunkerCost(): number {
  const text = 'Dr. Smith said the lights are on, e.g. in the kitchen. The heating is at 21.5 degrees! Anything else? 好的。 ';
  const pieces = text.repeat(200).match(/.{1,3}/gsu) ?? [];
  const chunker = new SentenceChunker({ firstMaxChars: 60, maxChars: 200 });
  const t0 = performance.now();
  for (const p of pieces) chunker.push(p);
  chunker.flush();
  return ((performance.now() - t0) * 1000) / pieces.length;
}

/** The node's server engine on a llama-server serving MODEL, or undefined where there is none. */
async function throughServer(): Promise<{ firstMs: number[]; tps: number[] } | undefined> {
  const bin = llamaServerBin();
  if (!bin) {
    process.stderr.write('llm: no llama-server ($LLAMA_SERVER_BIN unset or missing, none on the PATH): its rows are left out\n');
    return undefined;
  }
  const server = await new LlamaServerProcess(bin, ['-m', MODEL, '-t', String(THREADS), '-c', '512', '-np', '1']).start();
  try {
    return await throughNode(new ServerEngine({ url: server.base, endpoint: 'chat', allowH2: false, rawBytes: false }));
  } finally {
    await server.stop();
  }
}

export async function run(): Promise<BenchRow[]> {
  const b = await bare();
  const n = await throughNode(new EmbeddedEngine({ modelPath: MODEL, threads: THREADS, contextSize: 512 }));
  const s = await throughServer();
  const stop = await interruptLatency();
  const first = await firstChunkAfterFirstToken();
  const bench = `llm (${MODEL_NAME}, ${THREADS} thread${THREADS > 1 ? 's' : ''})`;
  return [
    { bench, metric: 'first token, node vs bare, median of 10', value: median(n.firstMs), unit: 'ms', baseline: median(b.firstMs), goal: 'ratio <= 1.1' },
    { bench, metric: 'decode speed, node vs bare, median of 10', value: median(n.tps), unit: 'tok/s', baseline: median(b.tps), goal: 'ratio >= 0.9' },
    ...(s
      ? [
          { bench, metric: 'first token, node on llama-server vs bare, median of 10', value: median(s.firstMs), unit: 'ms', baseline: median(b.firstMs) },
          { bench, metric: 'decode speed, node on llama-server vs bare, median of 10', value: median(s.tps), unit: 'tok/s', baseline: median(b.tps) },
        ]
      : []),
    { bench, metric: 'interrupt → generation stopped (median)', value: median(stop), unit: 'ms', goal: '<= 20 ms' },
    { bench, metric: `first TTS chunk ready after the first token, first clause vs sentence only (median of ${first.clause.length})`, value: median(first.clause), unit: 'ms', baseline: median(first.sentence) },
    { bench: 'sentence chunker', metric: 'cost per 3-char token', value: chunkerCost(), unit: 'µs' },
  ];
}

if (require.main === module) {
  void run().then(async (rows) => (await import('./table')).printTable(rows));
}
