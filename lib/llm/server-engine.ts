import { Pool, type Dispatcher } from 'undici';
import {
  abortError,
  ContextExceededError,
  estimateTokens,
  LlmEngineError,
  WARM_UP_SAMPLING,
  type ChatMessage,
  type EngineInfo,
  type GenerateMarks,
  type GenerateRequest,
  type LlmEngine,
  type SamplingOptions,
} from './engine';
import { parsedReader, rawReader, type SseSink } from './sse-lines';
import { withToolRounds, type Round, type StreamedCall } from './tool-rounds';
import type { ToolDefinition } from './tools';
import { notHttpError, notTlsError, speaksPlainHttp, speaksTls, tlsConnectorNamingPlainHttp } from './wrong-scheme';

export interface ServerOptions {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /** `chat`: POST /v1/chat/completions; `completion`: POST /completion with a plain prompt. */
  endpoint: 'chat' | 'completion';
  /** Offer HTTP/2 over TLS (llama-server speaks HTTP/1.1; a proxy in front may speak h2). */
  allowH2: boolean;
  /** Hand each token on at its earliest byte instead of at the end of its SSE event. */
  rawBytes: boolean;
  /** How long to wait for response headers (the prompt is evaluated before them). */
  headersTimeoutMs?: number;
  /**
   * How long the reply may go without a byte once it has begun; 0 = no limit.
   * A server stopped or hung mid-reply can hold the stream open silently, and
   * undici's own body timeout is 300 s.
   */
  stallTimeoutMs?: number;
}

/** Without a setting: a few seconds, several times the gap between two tokens of a slow model on a Pi. */
export const DEFAULT_STALL_TIMEOUT_MS = 5000;

/** What a request on a kept-alive connection the server has since closed or lost fails with. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** llama.cpp's llama-server over HTTP, streamed as server-sent events. */
export class ServerEngine implements LlmEngine {
  readonly kind = 'server';
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly https: boolean;
  private readonly host: string;
  private readonly port: number;

  /** Tools need the chat template: the plain /completion prompt has no place for them. */
  get supportsTools(): boolean {
    return this.options.endpoint === 'chat';
  }

  constructor(private readonly options: ServerOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new LlmEngineError(`invalid llama-server URL "${options.url}"`, 'BAD_URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new LlmEngineError(`llama-server URL must start with http:// or https://, got "${options.url}"`, 'BAD_URL');
    }
    this.basePath = parsed.pathname.replace(/\/$/, '');
    this.https = parsed.protocol === 'https:';
    this.host = parsed.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(parsed.port) || (this.https ? 443 : 80);
    // llama-server closes the connection after every streamed reply (it keeps
    // it only after short answers such as /health), so each turn opens a new
    // one: a TCP connect, well under a millisecond on a LAN. The pool still
    // spares the set-up between /health, /props and the warm-up, and keeps one
    // alive where a proxy in front does keep streamed connections.
    this.pool = new Pool(parsed.origin, {
      connections: 4,
      allowH2: options.allowH2,
      keepAliveTimeout: 60_000,
      headersTimeout: options.headersTimeoutMs ?? 120_000,
      bodyTimeout: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      ...(this.https ? { connect: tlsConnectorNamingPlainHttp(options.url, options.allowH2) } : {}),
    });
  }

  /** GET /health: resolves when the model is loaded. */
  async health(signal?: AbortSignal): Promise<void> {
    const res = await this.send({ method: 'GET', path: `${this.basePath}/health`, signal });
    const body = await res.body.text();
    if (res.statusCode === 503) throw new LlmEngineError('llama-server is still loading its model', 'LOADING');
    if (res.statusCode !== 200) throw new LlmEngineError(`llama-server /health answered ${res.statusCode}: ${errorText(body)}`, 'HTTP_STATUS');
  }

  /** GET /props: the context each request gets (one slot's), or null when the server does not say. */
  async contextSize(): Promise<number | null> {
    const res = await this.send({ method: 'GET', path: `${this.basePath}/props` });
    const body = await res.body.text();
    if (res.statusCode !== 200) return null;
    try {
      const props = JSON.parse(body) as { default_generation_settings?: { n_ctx?: unknown }; n_ctx?: unknown };
      const nCtx = props.default_generation_settings?.n_ctx ?? props.n_ctx;
      return typeof nCtx === 'number' && nCtx > 0 ? nCtx : null;
    } catch {
      return null;
    }
  }

  async start(warmUp: ChatMessage[]): Promise<EngineInfo> {
    await this.health();
    const contextSize = await this.contextSize();
    await this.generate({ messages: warmUp, sampling: WARM_UP_SAMPLING, signal: new AbortController().signal, onText: () => undefined });
    return { contextSize };
  }

  countTokens(text: string): number {
    return estimateTokens(text);
  }

  generate(request: GenerateRequest): Promise<GenerateMarks> {
    const offered = this.supportsTools ? request : { ...request, tools: undefined };
    return withToolRounds(offered, (messages, tools, forced) => this.round(messages, tools, forced, request));
  }

  /** One streamed request: the text as it comes, and the tool calls the reply ended with. */
  private async round(messages: ChatMessage[], tools: ToolDefinition[] | undefined, forced: boolean, { sampling, signal, onText }: GenerateRequest): Promise<Round> {
    const chat = this.options.endpoint === 'chat';
    const body = JSON.stringify(chat ? chatBody(messages, sampling, tools, forced) : completionBody(messages, sampling));
    const requestSent = performance.now();
    const res = await this.send({
      method: 'POST',
      path: `${this.basePath}${chat ? '/v1/chat/completions' : '/completion'}`,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body,
      signal,
    });
    const firstByte = performance.now();
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      const overflow = contextOverflow(res.statusCode, text);
      if (overflow) throw overflow;
      const what = res.statusCode === 503 ? 'llama-server is still loading its model' : `llama-server answered ${res.statusCode}`;
      throw new LlmEngineError(`${what}: ${errorText(text)}`, res.statusCode === 503 ? 'LOADING' : 'HTTP_STATUS');
    }

    let firstSseLine: number | null = null;
    let firstToken: number | null = null;
    let tokens = 0;
    // The server's own count, from the last event's timings, is exact where ours counts text events.
    let serverTokens: number | undefined;
    let finished = false;
    let truncated = false;
    let failure: Error | undefined;
    let said = '';
    // Streamed by index, in fragments: the id and name first, then the arguments piece by piece.
    const calls: StreamedCall[] = [];
    const text = (t: string) => {
      if (!t || signal.aborted) return;
      said += t;
      tokens++;
      firstToken ??= performance.now();
      onText(t, tokens);
    };
    const sink: SseSink = {
      onData: (data, contentSent) => {
        if (failure) return;
        firstSseLine ??= performance.now();
        if (data === '[DONE]') {
          finished = true;
          return;
        }
        let event: LlamaEvent;
        try {
          event = JSON.parse(data) as LlamaEvent;
        } catch {
          failure = new LlmEngineError(`llama-server sent invalid JSON: ${data.slice(0, 80)}`, 'BAD_STREAM');
          return;
        }
        if (event.error) {
          failure = new LlmEngineError(`llama-server error: ${event.error.message ?? JSON.stringify(event.error)}`, 'SERVER_ERROR');
          return;
        }
        const choice = event.choices?.[0];
        const content = chat ? choice?.delta?.content : event.content;
        if (!contentSent && typeof content === 'string') text(content);
        for (const d of choice?.delta?.tool_calls ?? []) {
          const call = (calls[d.index ?? Math.max(0, calls.length - 1)] ??= { id: '', name: '', arguments: '' });
          if (d.id) call.id = d.id;
          if (d.function?.name) call.name += d.function.name;
          if (d.function?.arguments) call.arguments += d.function.arguments;
        }
        if (typeof event.timings?.predicted_n === 'number') serverTokens = event.timings.predicted_n;
        if (chat ? choice?.finish_reason != null : event.stop === true) {
          finished = true;
          // Cut by max tokens or by the context: llama-server says "length" on the chat
          // endpoint, stop_type "limit" (and truncated, for the context) on /completion.
          truncated = chat ? choice?.finish_reason === 'length' : event.truncated === true || event.stop_type === 'limit';
        }
      },
      onEarlyContent: (t) => text(t),
    };
    const reader = this.options.rawBytes ? rawReader(sink) : parsedReader(sink);
    try {
      for await (const chunk of res.body) {
        reader.feed(chunk as Buffer);
        if (failure) break; // leaving the loop destroys the body and its connection
      }
    } catch (err) {
      if (signal.aborted) throw abortError();
      if ((err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT') {
        const seconds = (this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS) / 1000;
        throw new LlmEngineError(
          `llama-server sent nothing for ${seconds} s in the middle of the reply (stopped or hung?): the turn was ended; check the server`,
          'LLM_STALLED',
        );
      }
      throw new LlmEngineError(`llama-server stream broke off: ${(err as Error).message}`, 'STREAM_CUT');
    }
    if (failure) throw failure;
    if (signal.aborted) throw abortError();
    if (!finished) throw new LlmEngineError('llama-server closed the stream before the reply ended', 'STREAM_CUT');
    const marks = { requestSent, firstByte, firstSseLine, firstToken, end: performance.now(), tokens: serverTokens ?? tokens, truncated };
    return { marks, text: said, calls: calls.filter(Boolean).map((c, i) => ({ ...c, id: c.id || `call-${requestSent.toFixed(0)}-${i}` })) };
  }

  private async send(opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
    try {
      try {
        return await this.pool.request(opts);
      } catch (err) {
        // A pooled connection to a server that died (or restarted) fails on first use,
        // before the server saw the request: once more, on a new connection.
        if (!STALE_CONNECTION_CODES.has((err as { code?: string }).code ?? '') || (opts.signal as AbortSignal | undefined)?.aborted) throw err;
        return await this.pool.request(opts);
      }
    } catch (err) {
      if ((opts.signal as AbortSignal | undefined)?.aborted) throw abortError();
      if (err instanceof LlmEngineError) throw err;
      const code = (err as { code?: string }).code ?? '';
      // A TLS server closes a plain-HTTP connection at once, before any answer.
      if (!this.https && (code === 'UND_ERR_SOCKET' || code.startsWith('HPE_')) && (await speaksTls(this.host, this.port))) {
        throw notHttpError(this.options.url);
      }
      // An HTTP server that answers the TLS hello (with a 400) fails the handshake at once;
      // llama-server's silence is caught by the connector (tlsConnectorNamingPlainHttp).
      if (this.https && code === 'ERR_SSL_WRONG_VERSION_NUMBER' && (await speaksPlainHttp(this.host, this.port))) {
        throw notTlsError(this.options.url);
      }
      if (CONNECT_CODES.has(code)) {
        throw new LlmEngineError(`llama-server is not reachable at ${this.options.url} (${code}): start it, or clear the URL to use the embedded engine`, 'UNREACHABLE');
      }
      throw new LlmEngineError(`llama-server request failed: ${(err as Error).message}`, code || 'REQUEST_FAILED');
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

interface LlamaEvent {
  content?: string;
  stop?: boolean;
  choices?: { delta?: { content?: string | null; tool_calls?: ToolCallDelta[] }; finish_reason?: string | null }[];
  truncated?: boolean;
  stop_type?: string;
  timings?: { predicted_n?: number };
  error?: { message?: string };
}

/** OpenAI's streamed tool call: `index` says which call a fragment belongs to. */
interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** llama-server's 400 for a prompt longer than the slot's context, with its own token counts. */
function contextOverflow(status: number, body: string): ContextExceededError | undefined {
  if (status !== 400) return undefined;
  try {
    const { error } = JSON.parse(body) as { error?: { type?: string; message?: string; n_prompt_tokens?: number; n_ctx?: number } };
    if (error?.type !== 'exceed_context_size_error') return undefined;
    return new ContextExceededError(`llama-server: ${error.message ?? 'the prompt exceeds the context'}`, error.n_prompt_tokens ?? 0, error.n_ctx ?? 0);
  } catch {
    return undefined;
  }
}

/** The human part of llama-server's error JSON, or the raw text. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200) || '(no body)';
  }
}

function samplingFields(s: SamplingOptions): Record<string, unknown> {
  const fields: Record<string, unknown> = { temperature: s.temperature, top_k: s.topK, top_p: s.topP, cache_prompt: true };
  // Low-latency mode pins the costly samplers off even if the server defaults change.
  if (s.lowLatency) Object.assign(fields, { mirostat: 0, typical_p: 1 });
  return fields;
}

function chatBody(messages: ChatMessage[], s: SamplingOptions, tools: ToolDefinition[] | undefined, forced: boolean): Record<string, unknown> {
  const offer = tools?.length
    ? {
        tools: tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })),
        parallel_tool_calls: true,
        ...(forced ? { tool_choice: 'required' } : {}),
      }
    : {};
  return { messages: messages.map(openAiMessage), stream: true, max_tokens: s.maxTokens, ...samplingFields(s), ...offer };
}

/** A history message as OpenAI's chat API (and llama-server's Jinja templates) spell tool calls and results. */
function openAiMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  if (m.toolCalls?.length) {
    const calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } }));
    return { role: 'assistant', content: m.content, tool_calls: calls };
  }
  return { role: m.role, content: m.content };
}

/** /completion takes a raw prompt: a plain transcript the model continues after "Assistant:". */
export function completionPrompt(messages: ChatMessage[]): string {
  const lines = messages.map((m) => (m.role === 'system' ? m.content : `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content}`));
  return `${lines.join('\n')}\nAssistant:`;
}

function completionBody(messages: ChatMessage[], s: SamplingOptions): Record<string, unknown> {
  return { prompt: completionPrompt(messages), stream: true, n_predict: s.maxTokens, stop: ['\nUser:'], ...samplingFields(s) };
}
