import { codedErrorFamily } from '../coded-error';
import { MISSING_MODEL_STATUS } from '../models/missing-model';
import type { ToolCall, ToolDefinition, ToolRunner } from './tools';

/** What both LLM engines (a llama-server, or llama.cpp in-process) offer the controller. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** assistant: the calls it made (its content is what it said before them, often ''). */
  toolCalls?: ToolCall[];
  /** tool: the call whose result `content` is. */
  toolCallId?: string;
}

export interface SamplingOptions {
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  /**
   * Plain sampling only (no mirostat, no typical_p): those samplers cost time
   * per token, which a voice reply cannot spare.
   */
  lowLatency: boolean;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  sampling: SamplingOptions;
  signal: AbortSignal;
  /** Called with each piece of text as soon as the engine has it, and the tokens generated so far. */
  onText: (text: string, tokens: number) => void;
  /**
   * Offered to the model; each call it makes goes to `callTool` (which keeps
   * the calls and results for the history), and the model goes on with the result.
   */
  tools?: ToolDefinition[];
  callTool?: ToolRunner;
  /** `required`: the model's first reply must call a tool (a small model may not think of it). Default `auto`. */
  toolChoice?: 'auto' | 'required';
  /**
   * The conversation it continues: an engine with several lanes keeps each
   * conversation on its own, so that its prompt prefix stays evaluated.
   */
  lane?: string;
}

/**
 * When each step of a generation happened, as performance.now() instants, so
 * the caller can measure from its own start. null where an engine has no such step.
 */
export interface GenerateMarks {
  /** The request left (server) or prompt evaluation began (embedded). */
  requestSent: number;
  /** Response headers from the server arrived. */
  firstByte: number | null;
  /** First server-sent event parsed. */
  firstSseLine: number | null;
  firstToken: number | null;
  end: number;
  tokens: number;
  /** The reply was cut by the token limit or the context, not ended by the model. */
  truncated: boolean;
}

export interface EngineInfo {
  /** Tokens the model can attend to per request (the server's slot context), when known. */
  contextSize: number | null;
}

export interface LlmEngine {
  readonly kind: 'server' | 'embedded';
  /** Whether `tools` in a request reach the model (not on llama-server's plain /completion). */
  readonly supportsTools: boolean;
  /** Generations it runs at once (default 1): the rooms of a flow answered side by side. */
  readonly lanes?: number;
  /**
   * Loads the model / checks the server, then generates one token of `warmUp`
   * so the first real turn finds the weights paged in and the prompt prefix cached.
   */
  start(warmUp: ChatMessage[]): Promise<EngineInfo>;
  generate(request: GenerateRequest): Promise<GenerateMarks>;
  /** A token count, for trimming the history to a budget. */
  countTokens(text: string): number;
  close(): Promise<void>;
}

/** One token of warm-up: enough to evaluate the prompt prefix, nothing to wait for. */
export const WARM_UP_SAMPLING: SamplingOptions = { maxTokens: 1, temperature: 0, topK: 1, topP: 1, lowLatency: true };

const STATUS_TEXT: Record<string, string> = {
  UNREACHABLE: 'server down',
  LOADING: 'model loading',
  MODEL_MISSING: MISSING_MODEL_STATUS.llm,
  MODEL_BAD: 'bad model file',
  NO_MODEL: MISSING_MODEL_STATUS.llm,
  STREAM_CUT: 'stream cut',
  BAD_STREAM: 'bad server reply',
  SERVER_ERROR: 'server error',
  HTTP_STATUS: 'server error',
  BAD_URL: 'bad server URL',
  LLM_STALLED: 'server stalled',
  CONTEXT_EXCEEDED: 'prompt too long',
  NOT_TLS: 'use http://',
  NOT_HTTP: 'use https://',
};

export class LlmEngineError extends codedErrorFamily(STATUS_TEXT, 'engine error') {}

/** The engine refused a prompt longer than its context; the counts are the engine's own. */
export class ContextExceededError extends LlmEngineError {
  constructor(
    message: string,
    readonly promptTokens: number,
    readonly contextSize: number,
  ) {
    super(message, 'CONTEXT_EXCEEDED');
  }
}

/** ~4 characters per token: good enough to keep a history inside a budget. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function abortError(): Error {
  const err = new Error('generation aborted');
  err.name = 'AbortError';
  return err;
}
