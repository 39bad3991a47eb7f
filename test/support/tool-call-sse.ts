import { fixture, LlamaReplay } from './llama-replay';

/**
 * Streams in the shape OpenAI documents for /v1/chat/completions with tools,
 * as llama-server (--jinja) sends them: a role chunk, then per call a chunk
 * with its index, id, type and name and empty arguments, then the arguments
 * in fragments cut anywhere, then finish_reason "tool_calls" and [DONE].
 * (No llama-server runs here to record one; these follow the documented format.)
 */

const BASE = { id: 'chatcmpl-tools', object: 'chat.completion.chunk', created: 1795482380, model: 'models/gemma-3-270m.gguf' };

const event = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ choices: [{ finish_reason: finish, index: 0, delta }], ...BASE, ...extra })}\n\n`;

const timings = (n: number) => ({ timings: { prompt_n: 40, prompt_ms: 10, predicted_n: n, predicted_ms: 5 } });

export interface StreamedToolCall {
  id: string;
  name: string;
  /** An object, or the exact text to stream (a model's broken JSON). */
  arguments: Record<string, unknown> | string;
}

/** A reply that only calls tools; `fragment` = characters per arguments fragment; calls interleave when `interleave`. */
export function toolCallStream(calls: StreamedToolCall[], { fragment = 5, interleave = false, before = '' } = {}): string {
  const heads = calls.map((c, index) => event({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }));
  const pieces = calls.map((c, index) => {
    const text = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments);
    const out: string[] = [];
    for (let i = 0; i < text.length; i += fragment) out.push(event({ tool_calls: [{ index, function: { arguments: text.slice(i, i + fragment) } }] }));
    return out;
  });
  let body = event({ role: 'assistant', content: null });
  if (before) body += event({ content: before });
  if (interleave) {
    body += heads.join('');
    for (let i = 0; pieces.some((p) => i < p.length); i++) for (const p of pieces) body += p[i] ?? '';
  } else {
    calls.forEach((_, i) => (body += heads[i] + pieces[i].join('')));
  }
  return `${body}${event({}, 'tool_calls', timings(calls.length * 8))}data: [DONE]\n\n`;
}

/** A plain reply, one event per piece, ended by "stop". */
export function textStream(pieces: string[]): string {
  const body = pieces.map((content) => event({ content })).join('');
  return `${event({ role: 'assistant', content: null })}${body}${event({}, 'stop', timings(pieces.length))}data: [DONE]\n\n`;
}

/** What the client sent in a /v1/chat/completions request, as far as tools go. */
export interface SentChat {
  messages: { role: string; content: string | null; tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }[];
  tools?: { type: string; function: { name: string; description: string; parameters: unknown } }[];
  parallel_tool_calls?: boolean;
}

/**
 * Routes the chat endpoint of a replay server as a model that uses tools:
 * offered a tool it wants, it calls (in 4-character fragments); given the
 * results (or offered none it wants), it says `answer()`. Reads what to do on
 * every request, so a test can change its mind between turns.
 */
function routeToolCalls(server: LlamaReplay, calls: () => StreamedToolCall[], answer: () => string[]): void {
  server.route('/v1/chat/completions', () => {
    const sent = JSON.parse(server.requests.at(-1)!.body) as SentChat;
    const offered = new Set(sent.tools?.map((t) => t.function.name));
    const wanted = calls().filter((c) => offered.has(c.name));
    return { body: sent.messages.at(-1)!.role === 'user' && wanted.length ? toolCallStream(wanted, { fragment: 4 }) : textStream(answer()), chunkSize: 64 };
  });
}

/** A started replay server with llama-server's /health and /props, its chat endpoint routed by routeToolCalls. */
export async function toolCallingServer(calls: () => StreamedToolCall[], answer: () => string[]): Promise<LlamaReplay> {
  const server = await new LlamaReplay().start();
  server.route('/health', { body: fixture('health.json'), contentType: 'application/json' });
  server.route('/props', { body: fixture('props.json'), contentType: 'application/json' });
  routeToolCalls(server, calls, answer);
  return server;
}
