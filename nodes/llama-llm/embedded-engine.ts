import { existsSync } from 'node:fs';
import type { ChatHistoryItem, Llama, LlamaChatSession, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { LlmEngineError, type ChatMessage, type GenerateRequest, type GenerateTimings, type LlmEngine } from './engine';
import { importEsm } from '../../lib/esm';

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
  private llama: Llama | undefined;
  private model: LlamaModel | undefined;
  private context: LlamaContext | undefined;
  private session: LlamaChatSession | undefined;

  constructor(private readonly options: EmbeddedOptions) {}

  async start(): Promise<void> {
    const { modelPath, threads, contextSize } = this.options;
    if (!modelPath) throw new LlmEngineError('no model: set a GGUF file or a llama-server URL', 'NO_MODEL');
    if (!existsSync(modelPath)) throw new LlmEngineError(`model file not found: ${modelPath}`, 'MODEL_MISSING');
    process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD ??= 'true';
    const lib = await importEsm<typeof import('node-llama-cpp')>('node-llama-cpp');
    this.llama = await lib.getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: lib.LlamaLogLevel.error });
    this.model = await this.llama.loadModel({ modelPath });
    this.context = await this.model.createContext({ contextSize, threads });
    this.session = new lib.LlamaChatSession({ contextSequence: this.context.getSequence() });
  }

  countTokens(text: string): number {
    return this.model ? this.model.tokenize(text).length : Math.ceil(text.length / 4);
  }

  async generate({ messages, sampling, signal, onText }: GenerateRequest): Promise<GenerateTimings> {
    const session = this.session;
    if (!session) throw new LlmEngineError('the model is not loaded', 'NOT_READY');
    const t0 = performance.now();
    const last = messages.at(-1);
    if (!last || last.role !== 'user') throw new LlmEngineError('the last message must be the user turn', 'BAD_REQUEST');
    session.setChatHistory(toHistory(messages.slice(0, -1)));
    let firstTokenMs: number | null = null;
    let tokens = 0;
    await session.prompt(last.content, {
      maxTokens: sampling.maxTokens,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      signal,
      stopOnAbortSignal: true,
      onToken: (generated) => {
        tokens += generated.length;
      },
      onTextChunk: (text) => {
        if (signal.aborted) return;
        firstTokenMs ??= performance.now() - t0;
        onText(text);
      },
    });
    return { requestSentMs: 0, serverFirstByteMs: null, firstSseLineAfterSendMs: null, firstTokenMs, totalMs: performance.now() - t0, tokens };
  }

  async close(): Promise<void> {
    await this.context?.dispose();
    await this.model?.dispose();
    await this.llama?.dispose();
    this.session = undefined;
  }
}

function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  return messages.map((m) =>
    m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'user' ? { type: 'user', text: m.content } : { type: 'model', response: [m.content] },
  );
}
