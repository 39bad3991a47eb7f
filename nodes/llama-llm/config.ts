import type { NodeDef } from 'node-red';
import { withDefaults, type Migration } from '../../lib/nodered/migrate';
import type { LlmSettings } from './controller';
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
}

export const CONFIG_VERSION = 2;

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
];

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
    chunker: { firstMaxChars: config.firstChunkChars, maxChars: config.maxChunkChars },
    maxInputChars: MAX_INPUT_CHARS,
    fallbackReply: config.fallbackReply.trim(),
  };
}
