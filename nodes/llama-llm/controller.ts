import { inputError } from '../../lib/coded-error';
import {
  isControlMessage,
  isKnownSpeaker,
  llmChunk,
  llmReply,
  llmToolCall,
  makeControl,
  metrics,
  newTurnId,
  parseControl,
  sameRoom,
  turnFields,
  TurnTracker,
  type ControlMessage,
  type ControlPayload,
  type LlmChunkMessage,
  type LlmToolCallMessage,
  type MetricsMessage,
  type TurnFields,
} from '../../lib/messages';
import { SentenceChunker, type ChunkerOptions } from '../../lib/text/sentence-chunker';
import { ContextExceededError, LlmEngineError, type ChatMessage, type GenerateMarks, type LlmEngine, type SamplingOptions } from '../../lib/llm/engine';
import type { ConversationMemory } from '../../lib/llm/memory';
import { gateTools, mergeTools, parseTools, refusalNote, resultText, type GatedTools, type ToolCall, type ToolDefinition, type ToolRunner } from '../../lib/llm/tools';
import { PendingToolCalls } from './pending-tool-calls';
import { turnMetrics, type LlmMetrics } from './metrics';

export interface LlmSettings {
  systemPrompt: string;
  /** Vocabulary and personality, appended to the system prompt. */
  style: string;
  sampling: SamplingOptions;
  chunker: ChunkerOptions;
  maxInputChars: number;
  /** Spoken in place of the rest of a reply that failed (stalled or cut server, engine error); '' or absent = nothing. */
  fallbackReply?: string;
  /** The node's own tools; a message's `msg.tools` add to them. */
  tools?: ToolDefinition[];
  /** How long a tool call waits for the flow's answer; 0 = until the turn is interrupted. */
  toolTimeoutMs?: number;
  /** Enrolled voices that may use tools needing a known speaker; empty = every enrolled voice. */
  allowedSpeakers?: string[];
}

/** Without a setting: long enough for Home Assistant over the LAN, short enough that the user still waits. */
export const DEFAULT_TOOL_TIMEOUT_MS = 5000;

export interface LlmOutputs {
  chunk(msg: LlmChunkMessage): void;
  metrics(msg: MetricsMessage<LlmMetrics>): void;
  reply(msg: Record<string, unknown>): void;
  toolCall(msg: LlmToolCallMessage): void;
  control(msg: ControlMessage): void;
  status(kind: 'busy' | 'ready' | 'idle', text: string): void;
  warn(message: string): void;
}

interface RunningTurn {
  turnId: string;
  abort: AbortController;
  /** Resolves once the turn has stopped and its history is written. */
  done: Promise<void>;
  /** What speaker-out reported as heard, when it cut the turn before the LLM finished. */
  spoken?: string;
}

/** A trimmed prompt aims this far under the engine's context: its token count was only estimated. */
const CONTEXT_MARGIN = 0.9;

/** The prompt does not fit even without the history. */
function tooLongError(err: ContextExceededError): LlmEngineError {
  return new LlmEngineError(
    `the prompt does not fit the model's context (${err.contextSize} tokens) even with the history trimmed: ` +
      `shorten the system prompt or the question, or give the model a larger context (llama-server -c) (${err.message})`,
    'CONTEXT_EXCEEDED',
  );
}

/** How often the status shows the decode speed while a reply streams. */
const SPEED_STATUS_MS = 1000;

/**
 * The llama-llm node's behaviour: a text message starts a turn, the reply
 * streams out sentence by sentence, and an interrupt stops it at once.
 */
export class LlmController {
  private readonly turns = new TurnTracker();
  /** The turns generating now, by turn id: one, or one per room up to the engine's lanes. */
  private readonly running = new Map<string, RunningTurn>();
  /** Numbers text turns as they arrive, per room: of several queued behind a running turn, only a room's newest runs. */
  private readonly arrivals = new Map<string, number>();
  /**
   * Each room's newest question not yet begun (waiting for the model, or for the answer before it):
   * a barge-in or an interrupt of every turn cancels it too, else it would answer over the user.
   * Rooms share the engine's lanes (taking turns when they are all busy); a question supersedes only its own room's (sameRoom).
   */
  private readonly waiting = new Map<string, string>();
  /** Summaries being written in the background; a new turn aborts them to have the engine. */
  private readonly summaries = new Set<AbortController>();
  private readonly pendingTools: PendingToolCalls;
  /** Tools on an engine that cannot offer them are said once, not every turn. */
  private toolsUnsupportedSaid = false;

  constructor(
    private readonly engine: LlmEngine,
    private readonly memory: ConversationMemory,
    private readonly settings: LlmSettings,
    private readonly out: LlmOutputs,
  ) {
    this.pendingTools = new PendingToolCalls(settings.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS);
  }

  /** The system prompt and a greeting: what the engine warms up with, so the prompt prefix is cached. */
  warmUpMessages(): ChatMessage[] {
    return warmUpMessages(this.settings);
  }

  private system(): string {
    return systemPrompt(this.settings);
  }

  /**
   * Handles one input message: control, reset, or a text turn. Resolves when the turn is over.
   * `ready` is awaited before a turn runs (the model loading): the turn is known, and can be cancelled, meanwhile.
   */
  async handle(msg: Record<string, unknown>, ready?: () => Promise<void>): Promise<void> {
    const arrived = performance.now();
    if (isControlMessage(msg)) return this.control(msg);
    if (msg.toolCallId !== undefined) return this.toolResult(msg);
    const { room } = turnFields(msg);
    // Each room is its own conversation unless the flow names one: the lounge does not hear the kitchen's history.
    const conversationId = typeof msg.conversationId === 'string' && msg.conversationId ? msg.conversationId : (room ?? 'default');
    if (msg.reset === true || msg.topic === 'reset' || msg.topic === 'clear') {
      this.memory.clear(conversationId);
      this.out.status('idle', 'history cleared');
      return;
    }
    const text = this.validate(msg.payload);
    const tools = mergeTools(this.settings.tools ?? [], parseTools(msg.tools, 'msg.tools'));
    if (msg.toolChoice !== undefined && msg.toolChoice !== 'auto' && msg.toolChoice !== 'required') {
      throw inputError(`msg.toolChoice must be "auto" or "required", got ${JSON.stringify(msg.toolChoice)}`);
    }
    const turnId = typeof msg.turnId === 'string' && msg.turnId ? msg.turnId : newTurnId();
    if (this.turns.isStale(turnId)) return; // a late transcript of a cancelled turn
    const key = room ?? '';
    const arrival = (this.arrivals.get(key) ?? 0) + 1;
    this.arrivals.set(key, arrival);
    this.turns.place(turnId, room);
    // A newer question supersedes one still waiting in its room: that turn ends now, so nothing of it
    // is ever spoken, even if a message of it comes again (the same question resent goes on).
    for (const [waitingKey, waitingTurn] of this.waiting) {
      if (waitingTurn !== turnId && sameRoom(room, this.turns.roomOf(waitingTurn))) {
        this.turns.cancel(waitingTurn);
        this.waiting.delete(waitingKey);
      }
    }
    this.waiting.set(key, turnId);
    try {
      if (ready) await ready(); // no await without it: a question with the model loaded starts in this tick
      for (const summary of this.summaries) summary.abort();
      // A new question supersedes the answer in progress in its room; another room's goes on beside it
      // while the engine has a free lane, else finishes first.
      while (!this.turns.isStale(turnId)) {
        const mine = [...this.running.values()].find((other) => other.turnId === turnId || sameRoom(room, this.turns.roomOf(other.turnId)));
        if (mine) {
          if (mine.turnId !== turnId) this.turns.cancel(mine.turnId);
          await this.stop(mine);
        } else if (this.running.size >= (this.engine.lanes ?? 1)) await Promise.race([...this.running.values()].map((other) => other.done));
        else break;
      }
    } finally {
      if (this.waiting.get(key) === turnId) this.waiting.delete(key);
    }
    if (arrival !== this.arrivals.get(key)) return; // an even newer question came while this one waited
    if (!this.turns.begin(turnId, room)) return; // cancelled while it waited
    let finished!: () => void;
    const running: RunningTurn = { turnId, abort: new AbortController(), done: new Promise((r) => (finished = r)) };
    this.running.set(turnId, running);
    try {
      await this.runTurn(msg, running, conversationId, text, tools, arrived);
    } finally {
      if (this.running.get(turnId) === running) this.running.delete(turnId);
      this.turns.finish(turnId);
      finished();
    }
  }

  private validate(payload: unknown): string {
    if (typeof payload !== 'string') throw inputError(`msg.payload must be text, got ${payload === null ? 'null' : typeof payload}`);
    const text = payload.trim();
    if (!text) throw inputError('msg.payload is empty: nothing to answer');
    if (text.length > this.settings.maxInputChars) {
      throw inputError(`msg.payload has ${text.length} characters; the limit is ${this.settings.maxInputChars}`);
    }
    return text;
  }

  /** The flow's answer to a tool call: the model goes on with it; a late one (interrupted, timed out) is dropped. */
  private toolResult(msg: Record<string, unknown>): void {
    if (typeof msg.toolCallId !== 'string' || !msg.toolCallId) throw inputError('msg.toolCallId must be the id of the tool call message being answered');
    if (!('toolResult' in msg)) throw inputError(`msg.toolResult is missing: the answer to tool call ${msg.toolCallId}`);
    if (!this.pendingTools.answer(msg.toolCallId, msg.toolResult)) {
      this.out.warn(`tool result for ${msg.toolCallId} dropped: that call is not waiting (answered, timed out, or its turn was interrupted)`);
    }
  }

  /** The tools this turn offers, by who is speaking; none on an engine without tools. */
  private gate(tools: ToolDefinition[], speaker: TurnFields['speaker']): GatedTools {
    if (tools.length && !this.engine.supportsTools) {
      if (!this.toolsUnsupportedSaid) this.out.warn('tools need the /v1/chat/completions endpoint: the plain /completion prompt has no place for them');
      this.toolsUnsupportedSaid = true;
      return { offered: [], refused: [] };
    }
    return gateTools(tools, isKnownSpeaker(speaker) ? speaker.name : undefined, this.settings.allowedSpeakers ?? []);
  }

  /** One call of the model: refused here when not offered, else sent to the flow and awaited. */
  private runTool(call: ToolCall, gated: GatedTools, fields: TurnFields & { turnId: string; conversationId: string }, signal: AbortSignal): Promise<unknown> {
    if (gated.refused.some((t) => t.name === call.name)) return Promise.resolve({ error: 'not allowed: this action needs a known speaker' });
    if (!gated.offered.some((t) => t.name === call.name)) return Promise.resolve({ error: `there is no action named ${call.name}` });
    this.out.status('busy', `calling ${call.name}`);
    return this.pendingTools.ask(call.id, signal, () => this.out.toolCall(llmToolCall(call, fields)));
  }

  private async runTurn(msg: Record<string, unknown>, running: RunningTurn, conversationId: string, text: string, tools: ToolDefinition[], arrived: number): Promise<void> {
    const { turnId, abort } = running;
    const started = performance.now();
    const fields = { ...turnFields(msg), turnId, conversationId };
    const gated = this.gate(tools, fields.speaker);
    const system = [this.system(), refusalNote(gated.refused)].filter(Boolean).join('\n\n');
    const messages = this.memory.messages(conversationId, system, text);
    const built = performance.now();

    const chunker = new SentenceChunker(this.settings.chunker);
    let index = 0;
    let reply = '';
    const sent: string[] = [];
    // Chunks carry the question's turn fields only; the reply, for the user's flow, all of it.
    const sendChunk = (payload: string, complete: boolean, fallback = false) => {
      this.out.chunk(llmChunk(payload, index, complete, fields, fallback));
      if (payload) sent.push(payload);
      index++;
    };

    this.out.status('busy', 'thinking…');
    // Prompt evaluation is the CPU-heavy part: the asr node may pause decoding meanwhile.
    this.out.control(makeControl('pause', turnId, { source: 'llama-llm' }));
    let resumed = false;
    const resume = () => {
      resumed = true;
      this.out.control(makeControl('resume', turnId, { source: 'llama-llm' }));
    };
    let firstTextAt = 0;
    let statusAt = 0;
    let marks!: GenerateMarks;
    // The first text; not the same as resumed: a tool call resumes asr before any text.
    let speaking = false;
    const onText = (piece: string, tokens: number) => {
      if (abort.signal.aborted) return;
      const now = performance.now();
      if (!speaking) {
        speaking = true;
        if (!resumed) resume();
        firstTextAt = statusAt = now;
        this.out.status('busy', 'speaking…');
      } else if (now - statusAt >= SPEED_STATUS_MS) {
        statusAt = now;
        this.out.status('busy', `speaking ${Math.round((tokens - 1) / ((now - firstTextAt) / 1000))} tok/s`);
      }
      reply += piece;
      for (const sentence of chunker.push(piece)) sendChunk(sentence, false);
    };
    // The calls and results, for the history: those answered before an interrupt too (the light is on).
    const steps: ChatMessage[] = [];
    // The time the turn waited for the flow: from the first call of a round out to the last result in.
    const toolFigures = { calls: 0, waitMs: 0 };
    let outstanding = 0;
    let waitingSince = 0;
    const callTool: ToolRunner = async (call) => {
      if (!resumed) resume(); // the flow's wait is no prompt evaluation
      toolFigures.calls++;
      if (outstanding++ === 0) waitingSince = performance.now();
      const result = await this.runTool(call, gated, fields, abort.signal).finally(() => {
        if (--outstanding === 0) toolFigures.waitMs += performance.now() - waitingSince;
      });
      if (!abort.signal.aborted) this.out.status('busy', 'thinking…'); // the model reads the result
      steps.push({ role: 'assistant', content: '', toolCalls: [call] }, { role: 'tool', toolCallId: call.id, content: resultText(result) });
      return result;
    };
    const toolChoice = msg.toolChoice === 'required' ? ('required' as const) : undefined;
    const toolOptions = gated.offered.length ? { tools: gated.offered, callTool, toolChoice } : {};
    try {
      try {
        marks = await this.engine.generate({ messages, sampling: this.settings.sampling, signal: abort.signal, onText, lane: conversationId, ...toolOptions });
      } catch (err) {
        if (!(err instanceof ContextExceededError) || abort.signal.aborted) throw err;
        // The history did not fit after all (our token estimate is rough): trim it to what the engine counted, once.
        const trimmed = this.trimmed(conversationId, system, text, messages, err);
        marks = await this.engine.generate({ messages: trimmed, sampling: this.settings.sampling, signal: abort.signal, onText, lane: conversationId, ...toolOptions }).catch((again: unknown) => {
          throw again instanceof ContextExceededError ? tooLongError(again) : again;
        });
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        if (!resumed) resume();
        // The user is waiting for an answer: say something rather than fall silent (the
        // unfinished sentence is dropped), and end the turn for TTS; the error goes to Catch.
        sendChunk(this.settings.fallbackReply ?? '', true, true);
        throw err;
      }
    }
    if (abort.signal.aborted) {
      // Interrupted: nothing more of this turn leaves the node. The history keeps
      // what speaker-out heard, else what was sent to be spoken.
      this.remember(conversationId, turnId, text, running.spoken ?? sent.join(' '), steps);
      return;
    }
    if (!resumed) resume();
    sendChunk(chunker.flush().join(' '), true);
    const end = performance.now();
    this.remember(conversationId, turnId, text, running.spoken ?? reply.trim(), steps);
    const figures = turnMetrics({ arrived, started, built, end }, marks, this.engine.kind, toolFigures);
    this.out.metrics(metrics('llm', turnId, figures, fields.room));
    // The reply goes last: a flow may take it as "this turn is over".
    this.out.reply(llmReply(msg, reply.trim(), { turnId, conversationId, interrupted: false, truncated: marks.truncated }));
    const speed = figures.generation.tokens_per_s;
    if (marks.truncated) this.out.status('ready', 'reply cut off');
    else this.out.status('ready', speed === null ? 'ready' : `ready ${Math.round(speed)} tok/s`);
  }

  /**
   * The prompt again with the history budget lowered to fit the engine's own
   * token count (and the summary bounded to it), for one retry. Throws when
   * nothing is left to trim.
   */
  private trimmed(conversationId: string, system: string, user: string, tooLong: ChatMessage[], err: ContextExceededError): ChatMessage[] {
    const estimate = (ms: ChatMessage[]) => ms.reduce((n, m) => n + this.engine.countTokens(m.content), 0);
    const estimated = estimate(tooLong);
    // Engine tokens per estimated token: the chat template and the tokenizer differ from the estimate.
    const ratio = Math.max(1, err.promptTokens / Math.max(1, estimated));
    const room = err.contextSize > this.settings.sampling.maxTokens ? err.contextSize - this.settings.sampling.maxTokens : err.contextSize;
    const budget = Math.floor((room / ratio) * CONTEXT_MARGIN);
    if (budget < this.memory.tokenBudget) {
      this.memory.setTokenBudget(budget);
      this.out.warn(
        `history budget lowered to ${budget} tokens: the server counted ${err.promptTokens} prompt tokens for its context of ${err.contextSize} (${err.message})`,
      );
    }
    const messages = this.memory.messages(conversationId, system, user);
    if (estimate(messages) >= estimated) throw tooLongError(err);
    return messages;
  }

  /** Writes a turn into the history, then folds old turns into the summary in the background. */
  private remember(conversationId: string, turnId: string, user: string, assistant: string, steps: ChatMessage[]): void {
    this.memory.record(conversationId, turnId, user, assistant, steps);
    const abort = new AbortController();
    this.summaries.add(abort);
    this.memory
      .compact(conversationId, abort.signal)
      .catch((err: Error) => {
        if (!abort.signal.aborted) this.out.warn(`could not summarise the conversation: ${err.message}`);
      })
      .finally(() => this.summaries.delete(abort));
  }

  private async control(msg: Record<string, unknown>): Promise<void> {
    const c = parseControl(msg);
    if (c.type === 'tts-end') return this.heard(c);
    // A question still waiting for the model is cancelled too: it must not answer over the user.
    this.turns.cancelBy(c, [...this.running.keys(), ...this.waiting.values()]);
    await Promise.all([...this.running.values()].filter((r) => this.turns.isStale(r.turnId)).map((r) => this.stop(r)));
  }

  /** speaker-out's tts-end: after a cut, the history keeps only what the user heard. */
  private heard(c: ControlPayload): void {
    // Not cut: everything was heard. Cut without text: keep what was sent to be spoken.
    if (!c.cut || typeof c.spokenText !== 'string') return;
    const running = this.running.get(c.turnId);
    if (running) running.spoken = c.spokenText;
    else this.memory.keepSpoken(c.turnId, c.spokenText);
  }

  private async stop(running: RunningTurn): Promise<void> {
    running.abort.abort();
    this.out.status('idle', 'interrupted');
    await running.done;
  }

  /** Aborts the running turns and any summary (node closing). */
  async close(): Promise<void> {
    for (const summary of this.summaries) summary.abort();
    await Promise.all([...this.running.values()].map((r) => this.stop(r)));
  }
}

/** The system prompt followed by the style's vocabulary and personality ('' when both are empty). */
export function systemPrompt(settings: Pick<LlmSettings, 'systemPrompt' | 'style'>): string {
  return [settings.systemPrompt, settings.style].filter((s) => s.trim()).join('\n\n');
}

/** The system prompt and a greeting: what an engine warms up with, so the prompt prefix is cached. */
export function warmUpMessages(settings: Pick<LlmSettings, 'systemPrompt' | 'style'>): ChatMessage[] {
  const system = systemPrompt(settings);
  return [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: 'Hello' }];
}
