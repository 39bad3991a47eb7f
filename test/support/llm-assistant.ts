import { LlmController, type LlmOutputs } from '../../nodes/llama-llm/controller';
import { ConversationMemory, fitBudget } from '../../lib/llm/memory';
import { ServerEngine, type ServerOptions } from '../../lib/llm/server-engine';

export const FALLBACK = 'Sorry, I lost my train of thought.';

type Msg = Record<string, unknown>;

export interface AssistantOptions extends Partial<ServerOptions> {
  url: string;
  maxTokens?: number;
  tokenBudget?: number;
  systemPrompt?: string;
  fallbackReply?: string;
}

/**
 * The llama-llm node's own parts (ServerEngine, ConversationMemory,
 * LlmController) wired as llama-llm.ts wires them, with every output
 * recorded: what a flow would receive, without a Node-RED runtime.
 */
export function serverAssistant({ maxTokens = 48, tokenBudget = 1500, systemPrompt = 'You tell stories.', fallbackReply = FALLBACK, ...engineOptions }: AssistantOptions) {
  const engine = new ServerEngine({ endpoint: 'completion', allowH2: false, rawBytes: false, ...engineOptions });
  const memory = new ConversationMemory({ tokenBudget, summariseAfter: 8 }, (t) => engine.countTokens(t));
  const got = { chunks: [] as Msg[], replies: [] as Msg[], metrics: [] as Msg[], warnings: [] as string[], status: [] as string[] };
  /** Called once when the first token of a turn arrives (the status turns to "speaking…"). */
  let onFirstToken: (() => void) | undefined;
  const out: LlmOutputs = {
    chunk: (m) => got.chunks.push(m),
    metrics: (m) => got.metrics.push(m),
    reply: (m) => got.replies.push(m),
    toolCall: () => undefined, // no tools in these settings
    control: () => undefined,
    status: (kind, text) => {
      got.status.push(`${kind}:${text}`);
      if (text === 'speaking…') {
        onFirstToken?.();
        onFirstToken = undefined;
      }
    },
    warn: (w) => got.warnings.push(w),
  };
  const settings = {
    systemPrompt,
    style: '',
    sampling: { maxTokens, temperature: 0, topK: 40, topP: 0.95, lowLatency: true },
    chunker: {},
    maxInputChars: 4000,
    fallbackReply,
  };
  const controller = new LlmController(engine, memory, settings, out);
  return {
    engine,
    memory,
    got,
    controller,
    /** As the node does at deploy: check and warm the server up, fit the history budget to its context. */
    async start(): Promise<void> {
      const { contextSize } = await engine.start(controller.warmUpMessages());
      const budget = fitBudget(tokenBudget, maxTokens, contextSize);
      if (budget < tokenBudget) memory.setTokenBudget(budget);
    },
    /** One turn; resolves with how long it took and the error it ended with, if any. */
    async ask(text: string, firstToken?: () => void): Promise<{ ms: number; error?: Error & { code?: string; statusText?: string } }> {
      onFirstToken = firstToken;
      const t0 = performance.now();
      try {
        await controller.handle({ payload: text });
        return { ms: performance.now() - t0 };
      } catch (error) {
        return { ms: performance.now() - t0, error: error as Error };
      }
    },
    async close(): Promise<void> {
      await controller.close();
      await engine.close();
    },
  };
}
