import { existsSync } from 'node:fs';
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, ChatModelResponse, GbnfJsonSchema, Llama, LlamaChat, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { importEsm } from '../esm';
import { damagedFileHint } from '../models/damaged-file';
import { missingModelMessage } from '../models/missing-model';
import { probeGguf } from './gguf-probe';
import { LlmEngineError, WARM_UP_SAMPLING, type ChatMessage, type EngineInfo, type GenerateMarks, type GenerateRequest, type LlmEngine } from './engine';
import { withToolRounds, type Round } from './tool-rounds';
import type { ToolDefinition } from './tools';

export interface EmbeddedOptions {
  modelPath: string;
  threads: number;
  /** Tokens each lane holds. */
  contextSize: number;
  /** Generations at once (rooms answered side by side), default 1; llama.cpp decodes them in one batch. */
  lanes?: number;
}

/** One context sequence and its chat: one generation at a time, and the conversation last evaluated on it. */
interface Lane {
  chat: LlamaChat;
  conversation: string | undefined;
  /** Generations queued or running on it; the next waits for the one before. */
  queue: Promise<unknown>;
  pending: number;
  usedAt: number;
}

/**
 * llama.cpp inside the Node-RED process through node-llama-cpp: no server to
 * run. Inference happens on llama.cpp's own threads; the event loop only sees
 * the text callbacks.
 */
export class EmbeddedEngine implements LlmEngine {
  readonly kind = 'embedded';
  /** node-llama-cpp's function calling: the chat wrapper's call syntax, its name and arguments grammar-constrained. */
  readonly supportsTools = true;
  private llama: Llama | undefined;
  private model: LlamaModel | undefined;
  private context: LlamaContext | undefined;
  /**
   * A context sequence takes one generation at a time: a second caller on the
   * same lane (the LLM summariser) waits, not evaluate its prompt under a running turn.
   */
  private lanePool: Lane[] = [];
  readonly lanes: number;
  /** Loading in progress, so that close() can wait for it instead of leaving a model behind. */
  private loading: Promise<EngineInfo> | undefined;
  private closed = false;

  constructor(private readonly options: EmbeddedOptions) {
    this.lanes = Math.max(1, Math.floor(options.lanes ?? 1));
  }

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
    // node-llama-cpp gives each sequence the context size, and batches the sequences' tokens in one decode.
    this.context = await this.model.createContext({ contextSize, threads, sequences: this.lanes });
    if (this.closed) throw new LlmEngineError('the node closed while its model was loading', 'CLOSED');
    const context = this.context;
    this.lanePool = Array.from({ length: this.lanes }, () => ({ chat: new lib.LlamaChat({ contextSequence: context.getSequence() }), conversation: undefined, queue: Promise.resolve(), pending: 0, usedAt: 0 }));
    // node-llama-cpp keeps the evaluated prefix: the system prompt is cached for each lane's first turn.
    const warm = (lane: string) => this.generate({ messages: warmUp, sampling: WARM_UP_SAMPLING, signal: new AbortController().signal, onText: () => undefined, lane });
    await Promise.all(this.lanePool.map((_, i) => warm(`warm-up ${i}`)));
    for (const lane of this.lanePool) lane.conversation = undefined;
    return { contextSize: this.context.contextSize };
  }

  countTokens(text: string): number {
    if (!this.model) throw new LlmEngineError('the model is not loaded', 'NOT_READY');
    return this.model.tokenize(text).length;
  }

  generate(request: GenerateRequest): Promise<GenerateMarks> {
    const lane = this.laneFor(request.lane);
    lane.pending++;
    lane.usedAt = performance.now();
    const run = lane.queue.then(() => withToolRounds(request, (messages, tools, forced) => this.round(lane.chat, messages, tools, forced, request)));
    lane.queue = run.catch(() => undefined).finally(() => lane.pending--);
    return run;
  }

  /**
   * The lane of a conversation: the one it last ran on (its prefix is still
   * evaluated there), else an idle one, the longest unused first, else the
   * least busy (it waits its turn). Without a conversation, any idle lane.
   */
  private laneFor(conversation: string | undefined): Lane {
    if (!this.lanePool.length) throw new LlmEngineError('the model is not loaded', 'NOT_READY');
    const own = conversation === undefined ? undefined : this.lanePool.find((l) => l.conversation === conversation);
    const idle = this.lanePool.filter((l) => l.pending === 0).sort((a, b) => a.usedAt - b.usedAt)[0];
    const lane = own ?? idle ?? [...this.lanePool].sort((a, b) => a.pending - b.pending)[0];
    if (conversation !== undefined) lane.conversation = conversation;
    return lane;
  }

  /**
   * One generation over the history. With tools the model may call them in
   * its chat wrapper's syntax (node-llama-cpp constrains the name and the
   * arguments by grammar once a call begins); `forced`, the whole reply is a
   * call, a JSON { name, arguments } its grammar allows, and nothing is spoken.
   */
  private async round(chat: LlamaChat, messages: ChatMessage[], tools: ToolDefinition[] | undefined, forced: boolean, { sampling, signal, onText }: GenerateRequest): Promise<Round> {
    const { llama } = this;
    if (!llama) throw new LlmEngineError('the model is not loaded', 'NOT_READY');
    const history = toHistory(messages);
    let firstToken: number | null = null;
    let tokens = 0;
    const requestSent = performance.now();
    const common = {
      maxTokens: sampling.maxTokens,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      signal,
      // Resolve with what was generated instead of throwing: the caller decides what to keep.
      stopOnAbortSignal: true,
      onToken: (generated: readonly unknown[]) => {
        tokens += generated.length;
      },
    };
    const marks = (truncated: boolean): GenerateMarks => ({ requestSent, firstByte: null, firstSseLine: null, firstToken, end: performance.now(), tokens, truncated });
    if (forced && tools) {
      // (node-llama-cpp takes any schema: what it does not know becomes "any value".)
      const grammar = await llama.createGrammarForJsonSchema(callSchema(tools) as never);
      // The call is not spoken, and its JSON is laid out on several lines: it gets room beyond a short reply's limit.
      const maxTokens = Math.max(sampling.maxTokens, FORCED_CALL_MAX_TOKENS);
      const { response, metadata } = await chat.generateResponse(history, { ...common, maxTokens, grammar });
      if (signal.aborted || metadata.stopReason === 'maxTokens') return { marks: marks(metadata.stopReason === 'maxTokens'), text: '', calls: [] };
      const call = grammar.parse(response) as unknown as { name: string; arguments: unknown };
      return { marks: marks(false), text: '', calls: [{ id: callId(), name: call.name, arguments: JSON.stringify(call.arguments ?? {}) }] };
    }
    let said = '';
    const { functionCalls, metadata } = await chat.generateResponse(history, {
      ...common,
      ...(tools ? { functions: chatFunctions(tools), documentFunctionParams: true } : {}),
      onTextChunk: (text: string) => {
        if (signal.aborted) return;
        firstToken ??= performance.now();
        said += text;
        onText(text, tokens);
      },
    });
    const calls = (functionCalls ?? []).map((c) => ({ id: callId(), name: c.functionName, arguments: JSON.stringify(c.params ?? {}) }));
    // node-llama-cpp shifts its context rather than overflow it: the only cut it reports is max tokens.
    return { marks: marks(metadata.stopReason === 'maxTokens'), text: said, calls };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.loading?.catch(() => undefined);
    // A generation still running holds the context; it has been aborted and ends within a token.
    await Promise.all(this.lanePool.map((l) => l.queue));
    await this.dispose();
  }

  private async dispose(): Promise<void> {
    this.lanePool = [];
    await this.context?.dispose();
    await this.model?.dispose();
    await this.llama?.dispose();
    this.context = this.model = this.llama = undefined;
  }
}

/** Tokens a forced call may take: ~40 for set_light(room, on) as node-llama-cpp lays out its JSON. */
const FORCED_CALL_MAX_TOKENS = 160;

let calls = 0;
/** node-llama-cpp gives calls no id; the flow's answer needs one. */
function callId(): string {
  return `call-${Date.now().toString(36)}-${++calls}`;
}

function chatFunctions(tools: ToolDefinition[]): ChatModelFunctions {
  return Object.fromEntries(tools.map((t) => [t.name, { description: t.description, params: t.parameters as GbnfJsonSchema }]));
}

/** The grammar of a forced call: one of the tools by name, with its arguments. */
export function callSchema(tools: ToolDefinition[]): GbnfJsonSchema {
  const one = (t: ToolDefinition) => ({ type: 'object', properties: { name: { const: t.name }, arguments: t.parameters } });
  return (tools.length === 1 ? one(tools[0]) : { oneOf: tools.map(one) }) as GbnfJsonSchema;
}

/** A tool message's text back to the value the flow gave (JSON), or the text itself. */
function resultValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Our messages as node-llama-cpp's history: the assistant's text, calls and
 * their results of one turn are one model response (functionCall items carry
 * their result), and the history ends with the model response to generate:
 * an empty one, or the one whose calls were just answered, to be continued.
 */
function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = [];
  const byId = new Map<string, ChatModelFunctionCall>();
  let model: ChatModelResponse | undefined;
  for (const m of messages) {
    if (m.role === 'system' || m.role === 'user') {
      items.push(m.role === 'system' ? { type: 'system', text: m.content } : { type: 'user', text: m.content });
      model = undefined;
      continue;
    }
    if (!model) items.push((model = { type: 'model', response: [] }));
    if (m.role === 'tool') {
      const call = byId.get(m.toolCallId ?? '');
      if (call) call.result = resultValue(m.content);
      continue;
    }
    if (m.content) model.response.push(m.content);
    for (const c of m.toolCalls ?? []) {
      const call: ChatModelFunctionCall = { type: 'functionCall', name: c.name, params: c.arguments, result: undefined };
      byId.set(c.id, call);
      model.response.push(call);
    }
  }
  if (items.at(-1)?.type !== 'model') items.push({ type: 'model', response: [] });
  return items;
}
