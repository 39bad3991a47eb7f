import type { ChatMessage } from './engine';

interface Turn {
  turnId: string;
  user: string;
  assistant: string;
}

interface Conversation {
  turns: Turn[];
  /** What older turns said, folded into one paragraph. */
  summary: string;
}

export interface MemoryOptions {
  /** Tokens the history may take in the prompt (system prompt and summary included). */
  tokenBudget: number;
  /** Fold the oldest turns into the summary once there are more than this many. */
  summariseAfter: number;
}

/** Turns → summary text. The default truncates; the node can ask the LLM instead. */
export type Summariser = (previous: string, turns: { user: string; assistant: string }[]) => Promise<string> | string;

/** The seed's truncation summary: the gist of each old turn in one short line. */
export const truncationSummary: Summariser = (previous, turns) => {
  const gist = (s: string, n: number) => (s.length > n ? `${s.slice(0, n).trimEnd()}…` : s);
  const lines = turns.map((t) => `User asked: ${gist(t.user, 80)} You answered: ${gist(t.assistant.split(/(?<=[.!?。！？])\s/)[0] ?? '', 100)}`);
  return [previous, ...lines].filter(Boolean).join('\n');
};

/**
 * Conversation history per conversation id: trimmed to a token budget,
 * older turns summarised, and an interrupted reply cut down to what the
 * user actually heard.
 */
export class ConversationMemory {
  private readonly conversations = new Map<string, Conversation>();

  constructor(
    private readonly options: MemoryOptions,
    private readonly countTokens: (text: string) => number,
    private readonly summarise: Summariser = truncationSummary,
  ) {}

  private get(id: string): Conversation {
    let c = this.conversations.get(id);
    if (!c) this.conversations.set(id, (c = { turns: [], summary: '' }));
    return c;
  }

  /** The messages for a new user turn: system (+ summary), as many recent turns as fit, the user. */
  messages(conversationId: string, system: string, user: string): ChatMessage[] {
    const c = this.get(conversationId);
    const head = c.summary ? `${system}\n\nEarlier in this conversation:\n${c.summary}` : system;
    let budget = this.options.tokenBudget - this.countTokens(head) - this.countTokens(user);
    const recent: ChatMessage[] = [];
    for (let i = c.turns.length - 1; i >= 0; i--) {
      const t = c.turns[i];
      const cost = this.countTokens(t.user) + this.countTokens(t.assistant);
      if (cost > budget) break;
      budget -= cost;
      recent.unshift({ role: 'user', content: t.user }, { role: 'assistant', content: t.assistant });
    }
    return [...(head ? [{ role: 'system' as const, content: head }] : []), ...recent, { role: 'user', content: user }];
  }

  /** Stores a finished (or interrupted) turn, then folds old turns into the summary. */
  async record(conversationId: string, turnId: string, user: string, assistant: string): Promise<void> {
    const c = this.get(conversationId);
    c.turns.push({ turnId, user, assistant });
    const extra = c.turns.length - this.options.summariseAfter;
    if (extra > 0) {
      const old = c.turns.splice(0, extra);
      c.summary = await this.summarise(c.summary, old);
    }
  }

  /** After a barge-in: the reply keeps only what was spoken. Returns false for an unknown turn. */
  keepSpoken(turnId: string, spoken: string): boolean {
    for (const c of this.conversations.values()) {
      const t = c.turns.find((x) => x.turnId === turnId);
      if (t) {
        t.assistant = spoken;
        return true;
      }
    }
    return false;
  }

  clear(conversationId: string): void {
    this.conversations.delete(conversationId);
  }

  history(conversationId: string): { turns: readonly { user: string; assistant: string }[]; summary: string } {
    return this.get(conversationId);
  }
}
