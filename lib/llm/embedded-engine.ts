import { existsSync } from 'node:fs';
import type { ChatHistoryItem, Llama, LlamaChatSession, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { importEsm } from '../esm';
import { damagedFileHint } from '../models/damaged-file';
import { missingModelMessage } from '../models/missing-model';
import { probeGguf } from './gguf-probe';
import { LlmEngineError, WARM_UP_SAMPLING, type ChatMessage, type EngineInfo, type GenerateMarks, type GenerateRequest, type LlmEngine } from './engine';

export interface EmbeddedOptions {
  modelPath: string;
  threads: number;
  contextSize: number;
}

/**
 * llama.cpp inside the Node-RED process through node-llama-cpp: no server to
 * run. Inference happens on llama.cpp's own threads; the event loop only sees
 * the text callbacks.
 */
export class EmbeddedEngine implements LlmEngine {
  readonly kind = 'embedded';
  readonly supportsTools = false;
  private llama: Llama | undefined;
  private model: LlamaModel | undefined;
  private context: LlamaContext | undefined;
  private session: LlamaChatSession | undefined;
  /**
   * The one chat session takes one generation at a time: setChatHistory of a
   * second caller (the LLM summariser) must not swap the history under a running turn.
   */
  private queue: Promise<unknown> = Promise.resolve();
  /** Loading in progress, so that close() can wait for it instead of leaving a model behind. */
  private loading: Promise<EngineInfo> | undefined;
  private closed = false;

  constructor(private readonly options: EmbeddedOptions) {}

  start(warmUp: ChatMessage[]): Promise<EngineInfo> {
    this.loading = this.load(warmUp).catch(async (err: unknown) => {
      // A retry starts from nothing: free what this attempt loaded (a corrupt GGUF fails after the library loaded).
      await this.dispose();
      throw err;
    });
    return this.loading;
  }

  private async load(warmUp: ChatMessage[]): Promise<EngineInfo> {
    const { modelPath, threads, contextSize } = this.options;
    if (!modelPath) throw new LlmEngineError(`${missingModelMessage('llm', 'GGUF model file', '')}; or set a llama-server URL`, 'NO_MODEL');
    if (!existsSync(modelPath)) throw new LlmEngineError(missingModelMessage('llm', 'model file', modelPath), 'MODEL_MISSING');
    // Never fetch or build llama.cpp at run time: the prebuilt binaries come with the package.
    process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD ??= 'true';
    // A file that makes llama.cpp abort must cost a child process, not Node-RED.
    await probeGguf(modelPath, threads);
    if (this.closed) throw new LlmEngineError('the node closed while its model was loading', 'CLOSED');
    const lib = await importEsm<typeof import('node-llama-cpp')>('node-llama-cpp');
    this.llama = await lib.getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: lib.LlamaLogLevel.error });
    this.model = await this.llama.loadModel({ modelPath }).catch((err: Error) => {
      throw new LlmEngineError(`could not load ${modelPath} (${err.message}): the file is not a whole GGUF model: ${damagedFileHint(modelPath)}`, 'MODEL_BAD');
    });
    this.context = await this.model.createContext({ contextSize, threads });
    if (this.closed) throw new LlmEngineError('the node closed while its model was loading', 'CLOSED');
    this.session = new lib.LlamaChatSession({ contextSequence: this.context.getSequence() });
    // node-llama-cpp keeps the evaluated prefix: the system prompt is cached for the first turn.
    await this.generate({ messages: warmUp, sampling: WARM_UP_SAMPLING, signal: new AbortController().signal, onText: () => undefined });
    return { contextSize: this.context.contextSize };
  }

  countTokens(text: string): number {
    if (!this.model) throw new LlmEngineError('the model is not loaded', 'NOT_READY');
    return this.model.tokenize(text).length;
  }

  generate(request: GenerateRequest): Promise<GenerateMarks> {
    const run = this.queue.then(() => this.generateNow(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async generateNow({ messages, sampling, signal, onText }: GenerateRequest): Promise<GenerateMarks> {
    const session = this.session;
    if (!session) throw new LlmEngineError('the model is not loaded', 'NOT_READY');
    const last = messages.at(-1);
    if (!last || last.role !== 'user') throw new LlmEngineError('the last message must be the user turn', 'BAD_REQUEST');
    session.setChatHistory(toHistory(messages.slice(0, -1)));
    let firstToken: number | null = null;
    let tokens = 0;
    const requestSent = performance.now();
    const { stopReason } = await session.promptWithMeta(last.content, {
      maxTokens: sampling.maxTokens,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      signal,
      // Resolve with what was generated instead of throwing: the caller decides what to keep.
      stopOnAbortSignal: true,
      onToken: (generated) => {
        tokens += generated.length;
      },
      onTextChunk: (text) => {
        if (signal.aborted) return;
        firstToken ??= performance.now();
        onText(text, tokens);
      },
    });
    // node-llama-cpp shifts its context rather than overflow it: the only cut it reports is max tokens.
    return { requestSent, firstByte: null, firstSseLine: null, firstToken, end: performance.now(), tokens, truncated: stopReason === 'maxTokens' };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.loading?.catch(() => undefined);
    // A generation still running holds the context; it has been aborted and ends within a token.
    await this.queue;
    await this.dispose();
  }

  private async dispose(): Promise<void> {
    this.session = undefined;
    await this.context?.dispose();
    await this.model?.dispose();
    await this.llama?.dispose();
    this.context = this.model = this.llama = undefined;
  }
}

function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  return messages.map((m) =>
    m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'user' ? { type: 'user', text: m.content } : { type: 'model', response: [m.content] },
  );
}
