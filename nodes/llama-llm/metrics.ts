import type { GenerateMarks, LlmEngine } from '../../lib/llm/engine';

/** The controller's own instants of a turn (performance.now()). */
export interface TurnTimes {
  /** The text message reached the node. */
  arrived: number;
  /** Building the prompt began (after any superseded turn had stopped). */
  started: number;
  /** The prompt was built. */
  built: number;
  /** The last chunk was sent. */
  end: number;
}

/** Output 2's payload, as docs/messages.md lists it; milliseconds, null where the engine has no such step. */
export interface LlmMetrics {
  build_prompt_ms: number;
  pre_request_gap_ms: number;
  server_first_byte_ms: number | null;
  first_sse_line_after_send_ms: number | null;
  first_token_latency_total_ms: number | null;
  generation: { tokens: number; tokens_per_s: number | null; ms: number };
  end_to_end_ms: number;
  engine: LlmEngine['kind'];
  interrupted: boolean;
  /** The reply was cut by max tokens or the context, not ended by the model. */
  truncated: boolean;
  /** Tool calls the model made in the turn, and how long the turn waited for their results (calls at once counted once). */
  tool_calls: number;
  tool_wait_ms: number;
}

/** What the tool calls of a turn cost it. */
export interface ToolFigures {
  calls: number;
  waitMs: number;
}

export function turnMetrics(t: TurnTimes, m: GenerateMarks, engine: LlmEngine['kind'], tools: ToolFigures = { calls: 0, waitMs: 0 }): LlmMetrics {
  const since = (from: number, to: number | null) => (to === null ? null : round(to - from));
  const genMs = m.firstToken === null ? 0 : m.end - m.firstToken;
  // The first token's time belongs to the latency, not to the decode speed.
  const tokensPerS = genMs > 0 && m.tokens > 1 ? round((m.tokens - 1) / (genMs / 1000)) : null;
  return {
    build_prompt_ms: round(t.built - t.started),
    pre_request_gap_ms: round(m.requestSent - t.built),
    server_first_byte_ms: since(m.requestSent, m.firstByte),
    first_sse_line_after_send_ms: since(m.requestSent, m.firstSseLine),
    first_token_latency_total_ms: since(t.arrived, m.firstToken),
    generation: { tokens: m.tokens, tokens_per_s: tokensPerS, ms: round(genMs) },
    end_to_end_ms: round(t.end - t.arrived),
    engine,
    interrupted: false,
    truncated: m.truncated,
    tool_calls: tools.calls,
    tool_wait_ms: round(tools.waitMs),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
