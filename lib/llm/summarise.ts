import type { LlmEngine } from './engine';
import type { Summariser } from './memory';

/**
 * Summarises old turns with the LLM itself. The controller runs it after a
 * reply is complete and aborts it when the next turn needs the engine.
 */
export function llmSummariser(engine: LlmEngine): Summariser {
  return async (previous, turns, signal) => {
    const transcript = turns.map((t) => `User: ${t.user}\nAssistant: ${t.assistant}`).join('\n');
    let summary = '';
    await engine.generate({
      messages: [
        { role: 'system', content: 'Summarise the conversation below in at most three short sentences. Keep names, numbers and decisions.' },
        { role: 'user', content: `${previous ? `Summary so far: ${previous}\n\n` : ''}${transcript}` },
      ],
      sampling: { maxTokens: 120, temperature: 0.2, topK: 40, topP: 0.95, lowLatency: true },
      signal,
      onText: (t) => (summary += t),
    });
    return summary.trim() || previous;
  };
}
