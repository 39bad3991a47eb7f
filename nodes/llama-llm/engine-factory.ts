import { join } from 'node:path';
import { CATALOG } from '../../lib/models/catalog';
import { isInstalled, modelPath } from '../../lib/models/models-dir';
import type { LlamaLlmConfig } from './config';
import { physicalCores } from './cpu-cores';
import { EmbeddedEngine } from './embedded-engine';
import type { LlmEngine } from './engine';
import { ServerEngine } from './server-engine';

/** The GGUF used when the node names none: the first installed catalog LLM. */
function defaultModelPath(): string {
  const llm = CATALOG.filter((e) => e.kind === 'llm').find((e) => isInstalled(e));
  return llm ? join(modelPath(llm), llm.files[0].path) : '';
}

export function createEngine(config: LlamaLlmConfig): LlmEngine {
  if (config.url.trim()) {
    return new ServerEngine({ url: config.url.trim(), endpoint: config.endpoint, allowH2: config.allowH2, rawBytes: config.rawBytes });
  }
  return new EmbeddedEngine({
    modelPath: config.modelPath.trim() || defaultModelPath(),
    threads: config.threads > 0 ? config.threads : physicalCores(),
    contextSize: config.contextSize,
  });
}

