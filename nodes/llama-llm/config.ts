import type { NodeDef } from 'node-red';
import { CodedError } from '../../lib/coded-error';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';
import { parseTools, type ToolDefinition } from '../../lib/llm/tools';
import { DEFAULT_TOOL_TIMEOUT_MS, type LlmSettings } from './controller';
import { styleText } from './styles';

/** The llama-llm node's saved settings (what the editor stores in the flow). */
export interface LlamaLlmConfig extends NodeDef {
  version?: number;
  /** llama-server base URL; empty = the embedded engine. */
  url: string;
  endpoint: 'chat' | 'completion';
  allowH2: boolean;
  rawBytes: boolean;
  /** Seconds a llama-server reply may go without a byte before the turn ends (LLM_STALLED); 0 = no limit. */
  stallTimeout: number;
  /** Sent on to be spoken when a turn fails (stalled or cut server, engine error); empty = nothing. */
  fallbackReply: string;
  /** GGUF file for the embedded engine; empty = the catalog's default LLM in the models directory. */
  modelPath: string;
  /** 0 = automatic: one per physical core, leaving one CPU free (defaultThreads). */
  threads: number;
  contextSize: number;
  /** Embedded engine: rooms answered side by side (context sequences decoded in one batch), 1-8. */
  lanes: number;
  systemPrompt: string;
  style: string;
  customStyle: string;
  maxTokens: number;
  temperature: number;
  lowLatency: boolean;
  tokenBudget: number;
  summariseAfter: number;
  summariseWithLlm: boolean;
  firstChunkChars: number;
  maxChunkChars: number;
  /** JSON: a list of `{ name, description, parameters, needsKnownSpeaker }` the model may call. */
  tools: string;
  /** Seconds a tool call waits for the flow's `msg.toolResult`; 0 = until the turn is interrupted. */
  toolTimeout: number;
  /** Comma-separated enrolled voices that may use tools needing a known speaker; empty = any enrolled voice. */
  allowedSpeakers: string;
}

export const CONFIG_VERSION = 3;

export const DEFAULTS: Omit<LlamaLlmConfig, keyof NodeDef> = {
  url: '',
  endpoint: 'chat',
  allowH2: false,
  rawBytes: false,
  stallTimeout: 5,
  fallbackReply: 'Sorry, I lost my train of thought.',
  modelPath: '',
  threads: 0,
  contextSize: 2048,
  lanes: 1,
  systemPrompt: 'You are a helpful voice assistant in a smart home. Your answers are spoken aloud.',
  style: 'concise',
  customStyle: '',
  maxTokens: 256,
  temperature: 0.7,
  lowLatency: true,
  tokenBudget: 1500,
  summariseAfter: 8,
  summariseWithLlm: false,
  firstChunkChars: 60,
  maxChunkChars: 200,
  tools: '[]',
  toolTimeout: DEFAULT_TOOL_TIMEOUT_MS / 1000,
  allowedSpeakers: '',
};

/** Steps that bring a saved config up to date (see lib/nodered/migrate.ts). */
export const MIGRATIONS: Migration<LlamaLlmConfig>[] = [
  withDefaults<LlamaLlmConfig>(DEFAULTS),
  {
    // Version 1 had no stall timeout (a stopped server hung the turn) and no spoken fallback.
    version: 2,
    up: (c) => ({
      ...c,
      stallTimeout: c.stallTimeout == null || String(c.stallTimeout).trim() === '' ? DEFAULTS.stallTimeout : Number(c.stallTimeout),
      fallbackReply: typeof c.fallbackReply === 'string' ? c.fallbackReply : DEFAULTS.fallbackReply,
    }),
  },
  {
    // Version 3 added tools, and their "tool calls" output as output 3 (see TOOL_CALLS_OUTPUT).
    version: 3,
    up: (c) => ({
      ...c,
      tools: typeof c.tools === 'string' && c.tools.trim() ? c.tools : DEFAULTS.tools,
      toolTimeout: c.toolTimeout == null || String(c.toolTimeout).trim() === '' ? DEFAULTS.toolTimeout : Number(c.toolTimeout),
      allowedSpeakers: typeof c.allowedSpeakers === 'string' ? c.allowedSpeakers : DEFAULTS.allowedSpeakers,
    }),
  },
];

/** Where "tool calls" sits among the outputs: chunks, full reply, tool calls, control, metrics. */
export const TOOL_CALLS_OUTPUT = 2;

/**
 * A node saved before version 3 has four outputs' wires: chunks, reply,
 * control, metrics. Node-RED wires them to ports by position, so its control
 * and metrics wires would come out of "tool calls" and "control": they move
 * one place on, and "tool calls" starts unwired. (The editor does the same on
 * import, in llama-llm.html, so what it shows and saves agrees.)
 */
export function migrateWires(version: unknown, wires: string[][]): string[][] | undefined {
  if ((typeof version === 'number' && version >= 3) || wires.length !== 4) return undefined;
  return [...wires.slice(0, TOOL_CALLS_OUTPUT), [], ...wires.slice(TOOL_CALLS_OUTPUT)];
}

/** Longer input is refused: a transcript or a typed question is never this long, a pasted file is. */
const MAX_INPUT_CHARS = 4000;

/** The stall timeout in milliseconds; a value that is not a number gets the default, not "no limit". */
export function stallTimeoutMs(config: Pick<LlamaLlmConfig, 'stallTimeout'>): number {
  const seconds = Number(config.stallTimeout);
  return (Number.isFinite(seconds) ? Math.max(0, seconds) : DEFAULTS.stallTimeout) * 1000;
}

/** What the controller needs from the saved settings. */
export function controllerSettings(config: LlamaLlmConfig): LlmSettings {
  return {
    systemPrompt: config.systemPrompt,
    style: styleText(config.style, config.customStyle),
    // top-k / top-p at llama.cpp's own defaults: the style prompt, not the sampler, shapes the voice.
    sampling: { maxTokens: config.maxTokens, temperature: config.temperature, topK: 40, topP: 0.95, lowLatency: config.lowLatency },
    // The first words are spoken at the reply's first clause of 3 words or more, not at its first full stop.
    chunker: { firstMaxChars: config.firstChunkChars, maxChars: config.maxChunkChars, firstClauseWords: 3 },
    maxInputChars: MAX_INPUT_CHARS,
    fallbackReply: config.fallbackReply.trim(),
    tools: nodeTools(config.tools),
    toolTimeoutMs: toolTimeoutMs(config),
    allowedSpeakers: config.allowedSpeakers
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** The node's tools; settings that are not a valid list throw (the node says so on every message). */
export function nodeTools(json: string): ToolDefinition[] {
  try {
    return parseTools(JSON.parse(json.trim() || '[]'), 'tools');
  } catch (err) {
    throw new CodedError(`the node's tools setting is not a valid list of tools: ${(err as Error).message}`, 'BAD_TOOLS', 'bad tools setting');
  }
}

/** A tool timeout that is not a number gets the default, not "wait forever". */
export function toolTimeoutMs(config: Pick<LlamaLlmConfig, 'toolTimeout'>): number {
  const seconds = Number(config.toolTimeout);
  return (Number.isFinite(seconds) ? Math.max(0, seconds) : DEFAULTS.toolTimeout) * 1000;
}
