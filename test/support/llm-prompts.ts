import type { ChatMessage, GenerateRequest } from '../../lib/llm/engine';
import { EmbeddedEngine } from '../../lib/llm/embedded-engine';

/**
 * Every prompt a llama-llm node with an embedded model (llama.cpp in-process)
 * hands to the model, in order: the conversation history as the model sees
 * it. The engine works as before; restore() takes the spy off.
 */
export function recordPrompts(): { prompts: ChatMessage[][]; restore(): void } {
  const prompts: ChatMessage[][] = [];
  const original = Object.getOwnPropertyDescriptor(EmbeddedEngine.prototype, 'generate') as PropertyDescriptor;
  const generate = original.value as EmbeddedEngine['generate'];
  EmbeddedEngine.prototype.generate = function (this: EmbeddedEngine, request: GenerateRequest) {
    prompts.push(request.messages.map((m) => ({ ...m })));
    return generate.call(this, request);
  };
  return { prompts, restore: () => Object.defineProperty(EmbeddedEngine.prototype, 'generate', original) };
}
