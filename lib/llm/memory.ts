import type { ChatMessage } from './engine';

interface Turn {
  turnId: string;
  user: string;
  assistant: string;
  /**
   * The tool calls of the turn and their results, between the question and the
   * answer, each call an assistant message with `toolCalls` followed by its tool message.
   */
  steps: ChatMessage[];
  /** Token cost of user + steps + assistant, counted once: the prompt is rebuilt every turn. */
  tokens: number;
}

interface Conversation {
  turns: Turn[];
  /** What older turns said, folded into a few lines. */
  summary: string;
  /** A summary is being written: one at a time per conversation. */
  compacting: boolean;
}

export interface MemoryOptions {
  /** Tokens the history may take in the prompt (system prompt and summary included). */
  tokenBudget: number;
  /** Fold the oldest turns into the summary once there are more than this many. */
  summariseAfter: number;
}

/** Turns → summary text. The default truncates; the node can ask the LLM instead. */
export type Summariser = (previous: string, turns: { user: string; assistant: string }[], signal: AbortSignal) => Promise<string> | string;

/** The seed's truncation summary: the gist of each old turn in one short line. */
export const truncationSummary: Summariser = (previous, turns) => {
  const gist = (s: string, n: number) => (s.length > n ? `${s.slice(0, n).trimEnd()}…` : s);
  const lines = turns.map((t) => `User asked: ${gist(t.user, 80)} You answered: ${gist(t.assistant.split(/(?<=[.!?。！？])\s/)[0] ?? '', 100)}`);
  return [previous, ...lines].filter(Boolean).join('\n');
};

/** A flow that invents a conversation id per message must not grow the memory without end. */
const MAX_CONVERSATIONS = 100;

/**
 * The history budget that leaves room for the reply inside the engine's
 * context (a prompt plus reply longer than the context fails or loses its start).
 */
export function fitBudget(tokenBudget: number, maxTokens: number, contextSize: number | null): number {
  return contextSize === null ? tokenBudget : Math.max(0, Math.min(tokenBudget, contextSize - maxTokens));
}

/**
 * Conversation history per conversation id: trimmed to a token budget,
 * older turns summarised, and an interrupted reply cut down to what the
 * user actually heard.
 */
export class ConversationMemory {
  private readonly conversations = new Map<string, Conversation>();
  private budget: number;
  private readonly summariseAfter: number;

  constructor(
    options: MemoryOptions,
    private readonly countTokens: (text: string) => number,
    private readonly summarise: Summariser = truncationSummary,
  ) {
    this.budget = options.tokenBudget;
    this.summariseAfter = options.summariseAfter;
  }

  get tokenBudget(): number {
    return this.budget;
  }

  /** Lowers the budget once the engine says how much context it has; summaries are cut down to the new bound. */
  setTokenBudget(tokens: number): void {
    this.budget = tokens;
    for (const c of this.conversations.values()) c.summary = this.bounded(c.summary);
  }

  private get(id: string): Conversation {
    let c = this.conversations.get(id);
    if (c) {
      // Map order is insertion order: re-inserting keeps the least recently used first.
      this.conversations.delete(id);
    } else {
      c = { turns: [], summary: '', compacting: false };
      if (this.conversations.size >= MAX_CONVERSATIONS) this.conversations.delete(this.conversations.keys().next().value as string);
    }
    this.conversations.set(id, c);
    return c;
  }

  /** The messages for a new user turn: system (+ summary), as many recent turns as fit, the user. */
  messages(conversationId: string, system: string, user: string): ChatMessage[] {
    const c = this.get(conversationId);
    const head = [system, c.summary && `Earlier in this conversation:\n${c.summary}`].filter(Boolean).join('\n\n');
    let budget = this.budget - this.countTokens(head) - this.countTokens(user);
    const recent: ChatMessage[] = [];
    for (let i = c.turns.length - 1; i >= 0 && c.turns[i].tokens <= budget; i--) {
      budget -= c.turns[i].tokens;
      recent.unshift({ role: 'user', content: c.turns[i].user }, ...c.turns[i].steps, { role: 'assistant', content: c.turns[i].assistant });
    }
    return [...(head ? [{ role: 'system' as const, content: head }] : []), ...recent, { role: 'user', content: user }];
  }

  /** Stores a finished (or interrupted) turn, with the tool calls it made. */
  record(conversationId: string, turnId: string, user: string, assistant: string, steps: ChatMessage[] = []): void {
    this.get(conversationId).turns.push({ turnId, user, assistant, steps, tokens: this.turnTokens(user, steps, assistant) });
  }

  private turnTokens(user: string, steps: ChatMessage[], assistant: string): number {
    const stepText = steps.map((m) => m.content + (m.toolCalls ? JSON.stringify(m.toolCalls) : '')).join('\n');
    return this.countTokens(user) + (steps.length ? this.countTokens(stepText) : 0) + this.countTokens(assistant);
  }

  /**
   * Folds the turns beyond `summariseAfter` into the summary. Run after a reply,
   * never before a first token; an abort (a new turn needs the engine) leaves
   * the turns as they are, to be folded next time.
   */
  async compact(conversationId: string, signal: AbortSignal): Promise<void> {
    const c = this.conversations.get(conversationId);
    const extra = c ? c.turns.length - this.summariseAfter : 0;
    if (!c || extra <= 0 || c.compacting) return;
    c.compacting = true;
    try {
      const old = c.turns.slice(0, extra);
      const summary = await this.summarise(c.summary, old, signal);
      if (signal.aborted || this.conversations.get(conversationId) !== c) return; // aborted, or cleared meanwhile
      c.turns = c.turns.filter((t) => !old.includes(t));
      c.summary = this.bounded(summary);
    } finally {
      c.compacting = false;
    }
  }

  /** The summary may take half the budget: its oldest lines go first. */
  private bounded(summary: string): string {
    const limit = this.budget / 2;
    const lines = summary.split('\n');
    while (lines.length > 1 && this.countTokens(lines.join('\n')) > limit) lines.shift();
    return lines.join('\n');
  }

  /** After a barge-in: the reply keeps only what was spoken. Returns false for an unknown turn. */
  keepSpoken(turnId: string, spoken: string): boolean {
    for (const c of this.conversations.values()) {
      const t = c.turns.find((x) => x.turnId === turnId);
      if (t) {
        t.assistant = spoken;
        t.tokens = this.turnTokens(t.user, t.steps, spoken);
        return true;
      }
    }
    return false;
  }

  clear(conversationId: string): void {
    this.conversations.delete(conversationId);
  }

  /** A read-only view, for tests and debugging. */
  history(conversationId: string): { turns: readonly { user: string; assistant: string }[]; summary: string } {
    const c = this.conversations.get(conversationId);
    return { turns: c?.turns ?? [], summary: c?.summary ?? '' };
  }
}
