import { installedModels } from '../../lib/models/installed';
import { stallTimeoutMs, type LlamaLlmConfig } from './config';
import { defaultThreads } from '../../lib/llm/cpu-cores';
import { EmbeddedEngine } from '../../lib/llm/embedded-engine';
import type { LlmEngine } from '../../lib/llm/engine';
import { ServerEngine } from '../../lib/llm/server-engine';

/** Each lane holds a context of its own in memory: beyond a handful of rooms, give them a llama-server. */
const MAX_LANES = 8;

/** A llama-server when a URL is set, else llama.cpp in-process. Throws on settings that cannot work. */
export function createEngine(config: LlamaLlmConfig): LlmEngine {
  if (config.url.trim()) {
    return new ServerEngine({
      url: config.url.trim(),
      endpoint: config.endpoint,
      allowH2: config.allowH2,
      rawBytes: config.rawBytes,
      stallTimeoutMs: stallTimeoutMs(config),
    });
  }
  return new EmbeddedEngine({
    modelPath: config.modelPath.trim() || installedModels('llm')[0]?.path || '',
    threads: config.threads > 0 ? config.threads : defaultThreads(),
    contextSize: config.contextSize,
    lanes: Math.min(MAX_LANES, Math.max(1, Math.floor(config.lanes) || 1)),
  });
}
