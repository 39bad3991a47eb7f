import type { NodeDef } from 'node-red';
import type { Migration } from '../../lib/nodered/migrate';

/** The llama-llm node's saved settings (what the editor stores in the flow). */
export interface LlamaLlmConfig extends NodeDef {
  version?: number;
  /** llama-server base URL; empty = the embedded engine. */
  url: string;
  endpoint: 'chat' | 'completion';
  allowH2: boolean;
  rawBytes: boolean;
  /** GGUF file for the embedded engine; empty = the catalog's default LLM in the models directory. */
  modelPath: string;
  /** 0 = physical core count. */
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

export const CONFIG_VERSION = 1;

export const DEFAULTS: Omit<LlamaLlmConfig, keyof NodeDef> = {
  url: '',
  endpoint: 'chat',
  allowH2: false,
  rawBytes: false,
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

/**
 * Version 0 = flows saved before settings were versioned: missing fields get
 * their defaults, and numbers typed into the editor as text become numbers.
 */
export const MIGRATIONS: Migration<LlamaLlmConfig>[] = [
  {
    version: 1,
    up: (c) => {
      const out: Record<string, unknown> = { ...DEFAULTS, ...c };
      for (const [key, value] of Object.entries(DEFAULTS)) {
        if (typeof value === 'number') out[key] = Number(out[key] === '' ? value : out[key]);
        if (typeof value === 'boolean') out[key] = out[key] === true || out[key] === 'true';
      }
      return out as LlamaLlmConfig & Record<string, unknown>;
    },
  },
];
