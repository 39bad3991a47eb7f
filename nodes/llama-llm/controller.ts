import { inputError } from '../../lib/coded-error';
import { cancelsTurn, makeControl, parseControl, type ControlMessage } from '../../lib/control/protocol';
import { newTurnId, TurnTracker } from '../../lib/control/turns';
import { SentenceChunker, type ChunkerOptions } from '../../lib/text/sentence-chunker';
import type { GenerateTimings, LlmEngine, SamplingOptions } from './engine';
import type { ConversationMemory } from './memory';

export interface LlmSettings {
  systemPrompt: string;
  /** Vocabulary and personality, appended to the system prompt. */
  style: string;
  sampling: SamplingOptions;
  chunker: ChunkerOptions;
  maxInputChars: number;
}

export interface LlmOutputs {
  chunk(msg: Record<string, unknown>): void;
  metrics(msg: Record<string, unknown>): void;
  reply(msg: Record<string, unknown>): void;
  control(msg: ControlMessage): void;
  status(kind: 'busy' | 'ready' | 'idle' | 'failed', text: string): void;
}

interface RunningTurn {
  turnId: string;
  conversationId: string;
  abort: AbortController;
  done: Promise<void>;
}

/** Control turn id meaning "whatever turn is running" (a dashboard stop button knows no turn ids). */
export const ANY_TURN = '*';

/**
 * The llama-llm node's behaviour: a text message starts a turn, the reply
 * streams out sentence by sentence, and an interrupt stops it at once.
 */
export class LlmController {
  private readonly turns = new TurnTracker();
  private running: RunningTurn | undefined;

  constructor(
    private readonly engine: LlmEngine,
    private readonly memory: ConversationMemory,
    private readonly settings: LlmSettings,
    private readonly out: LlmOutputs,
  ) {}

  /** Handles one input message: control, reset, or a text turn. Resolves when the turn is over. */
  async handle(msg: Record<string, unknown>): Promise<void> {
    if (msg.control != null) return this.control(msg);
    const conversationId = typeof msg.conversationId === 'string' && msg.conversationId ? msg.conversationId : 'default';
    if (msg.reset === true || msg.topic === 'reset' || msg.topic === 'clear') {
      this.memory.clear(conversationId);
      this.out.status('idle', 'history cleared');
      return;
    }
    const text = this.validate(msg.payload);
    const turnId = typeof msg.turnId === 'string' && msg.turnId ? msg.turnId : newTurnId();
    if (this.turns.isStale(turnId)) return; // a late transcript of a cancelled turn
    // A new question supersedes the answer in progress.
    if (this.running) await this.cancel(this.running.turnId);
    return this.run(msg, turnId, conversationId, text);
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

  private async run(msg: Record<string, unknown>, turnId: string, conversationId: string, text: string): Promise<void> {
    this.turns.begin(turnId);
    let resolveDone!: () => void;
    const running: RunningTurn = { turnId, conversationId, abort: new AbortController(), done: new Promise((r) => (resolveDone = r)) };
    this.running = running;
    try {
      await this.runTurn(msg, running, text);
    } finally {
      if (this.running === running) this.running = undefined;
      // Whoever cancelled this turn waits for this: the history is complete by now.
      resolveDone();
    }
  }

  private async runTurn(msg: Record<string, unknown>, running: RunningTurn, text: string): Promise<void> {
    const { turnId, conversationId, abort } = running;
    const t0 = performance.now();
    const live = () => !abort.signal.aborted && !this.turns.isStale(turnId);

    const system = [this.settings.systemPrompt, this.settings.style].filter((s) => s.trim()).join('\n\n');
    const messages = this.memory.messages(conversationId, system, text);
    const buildPromptMs = performance.now() - t0;

    const chunker = new SentenceChunker(this.settings.chunker);
    let index = 0;
    let reply = '';
    const sent: string[] = [];
    const base = { ...msg, turnId, conversationId };
    const sendChunk = (payload: string, complete: boolean) => {
      const parts: Record<string, unknown> = { id: turnId, index, type: 'string', ch: '' };
      if (complete) parts.count = index + 1;
      this.out.chunk({ ...base, topic: 'llm-chunk', payload, index, complete, parts });
      if (payload) sent.push(payload);
      index++;
    };

    this.out.status('busy', 'thinking…');
    // Prompt evaluation is the CPU-heavy part: the asr node may pause decoding meanwhile.
    this.out.control(makeControl('pause', turnId, { source: 'llama-llm' }));
    let resumed = false;
    let timings: GenerateTimings | undefined;
    try {
      timings = await this.engine.generate({
        messages,
        sampling: this.settings.sampling,
        signal: abort.signal,
        onText: (piece) => {
          if (!live()) return;
          if (!resumed) {
            resumed = true;
            this.out.control(makeControl('resume', turnId, { source: 'llama-llm' }));
            this.out.status('busy', 'speaking…');
          }
          reply += piece;
          for (const sentence of chunker.push(piece)) sendChunk(sentence, false);
        },
      });
    } catch (err) {
      if (live()) {
        this.out.control(makeControl('resume', turnId, { source: 'llama-llm' }));
        throw err;
      }
    }
    if (!live() || !timings) {
      // Interrupted: nothing more of this turn leaves the node. The history holds
      // what was sent to TTS until speaker-out's tts-end says what was heard.
      await this.memory.record(conversationId, turnId, text, sent.join(' '));
      return;
    }
    if (!resumed) this.out.control(makeControl('resume', turnId, { source: 'llama-llm' }));
    const rest = chunker.flush().join(' ');
    sendChunk(rest, true);
    this.turns.finish(turnId);
    await this.memory.record(conversationId, turnId, text, reply.trim());

    const endToEnd = performance.now() - t0;
    const genMs = timings.firstTokenMs === null ? 0 : timings.totalMs - timings.firstTokenMs;
    const tokensPerS = genMs > 0 && timings.tokens > 1 ? (timings.tokens - 1) / (genMs / 1000) : null;
    this.out.metrics({
      topic: 'metrics',
      stage: 'llm',
      turnId,
      payload: {
        build_prompt_ms: round(buildPromptMs),
        pre_request_gap_ms: timings.requestSentMs === null ? null : round(timings.requestSentMs),
        server_first_byte_ms: roundOrNull(timings.serverFirstByteMs),
        first_sse_line_after_send_ms: roundOrNull(timings.firstSseLineAfterSendMs),
        first_token_latency_total_ms: timings.firstTokenMs === null ? null : round(buildPromptMs + timings.firstTokenMs),
        generation: { tokens: timings.tokens, tokens_per_s: tokensPerS === null ? null : round(tokensPerS), ms: round(genMs) },
        end_to_end_ms: round(endToEnd),
        engine: this.engine.kind,
        interrupted: false,
      },
    });
    this.out.reply({ ...base, topic: 'llm-reply', payload: reply.trim(), interrupted: false });
    this.out.status('ready', tokensPerS === null ? 'ready' : `ready ${Math.round(tokensPerS)} tok/s`);
  }

  private async control(msg: Record<string, unknown>): Promise<void> {
    const c = parseControl(msg);
    if (c.type === 'tts-end') {
      // The history keeps only what the user heard of an interrupted reply.
      if (c.cut) this.memory.keepSpoken(c.turnId, c.spokenText ?? '');
      return;
    }
    if (!cancelsTurn(c.type)) return;
    const current = this.running?.turnId;
    // speech-start carries the NEW turn of the user's utterance: it ends whatever is running.
    const target = c.type === 'speech-start' || c.turnId === ANY_TURN ? current : c.turnId;
    if (target && target !== (c.type === 'speech-start' ? c.turnId : undefined)) await this.cancel(target);
  }

  private async cancel(turnId: string): Promise<void> {
    this.turns.cancel(turnId);
    const running = this.running;
    if (running?.turnId !== turnId) return;
    running.abort.abort();
    this.out.status('idle', 'interrupted');
    await running.done;
    this.running = undefined;
  }

  /** Aborts any running turn (node closing). */
  async close(): Promise<void> {
    if (this.running) await this.cancel(this.running.turnId);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function roundOrNull(n: number | null): number | null {
  return n === null ? null : round(n);
}
