import { CodedError } from '../../lib/coded-error';

/** What both LLM engines (a llama-server, or llama.cpp in-process) offer the controller. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
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
  /** Called with each piece of text as soon as the engine has it. */
  onText: (text: string) => void;
}

/** Milliseconds from the moment generate() was called, null where an engine has no such step. */
export interface GenerateTimings {
  /** Request sent (server) or evaluation started (embedded). */
  requestSentMs: number | null;
  /** Response headers from the server arrived. */
  serverFirstByteMs: number | null;
  /** First SSE line parsed, counted from the request being sent. */
  firstSseLineAfterSendMs: number | null;
  firstTokenMs: number | null;
  totalMs: number;
  tokens: number;
}

export interface LlmEngine {
  readonly kind: 'server' | 'embedded';
  /** Loads the model / checks the server and warms it up. */
  start(): Promise<void>;
  generate(request: GenerateRequest): Promise<GenerateTimings>;
  /** A rough token count, for trimming the history to a budget. */
  countTokens(text: string): number;
  close(): Promise<void>;
}

const STATUS_TEXT: Record<string, string> = {
  UNREACHABLE: 'server down',
  LOADING: 'model loading',
  MODEL_MISSING: 'model missing',
  NO_MODEL: 'no model set',
  STREAM_CUT: 'stream cut',
  BAD_STREAM: 'bad server reply',
  HTTP_STATUS: 'server error',
};

export class LlmEngineError extends CodedError {
  constructor(message: string, code: string) {
    super(message, code, STATUS_TEXT[code] ?? 'engine error');
  }
}

/** ~4 characters per token: good enough to keep a history inside a budget. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
