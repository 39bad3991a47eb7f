import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths';

export type FlowNode = { id: string; type: string; name?: string; z?: string; wires?: string[][]; [key: string]: unknown };

/** Our nodes and the core nodes the example runs for real (the inject that types, the function node that is the house). */
const REAL = new Set(['llama-llm', 'piper-tts', 'speaker-out', 'sound-card', 'inject', 'function', 'tab']);

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const CORE_NODES = ['common/20-inject.js', 'function/10-function.js'].map((f) => require(`@node-red/nodes/core/${f}`) as never);

export const shippedVoiceControl = () => JSON.parse(readFileSync(join(ROOT, 'flows', 'voice-control.json'), 'utf8')) as FlowNode[];

/**
 * flows/voice-control.json as a user imports it, with what a user sets: the
 * model (`llm` settings), the voice, the speaker (a WAV file here). Debug
 * nodes become test taps; `tap(name, output)` adds one more on any output.
 */
export function voiceControlFlow(llm: Record<string, unknown>, voice: string, speakerWav: string) {
  const nodes = shippedVoiceControl();
  const byName = (name: string) => nodes.find((n) => n.name === name) as FlowNode;
  Object.assign(byName('assistant'), llm);
  Object.assign(byName('text to speech'), { voicePath: voice });
  Object.assign(byName('speaker'), { sink: 'wav', wavPath: speakerWav });
  const flow = nodes.map((n) => (REAL.has(n.type) ? n : { ...n, type: 'helper' }));
  const tap = (name: string, output: number): string => {
    const id = `tap-${byName(name).id}-${output}`;
    byName(name).wires?.[output].push(id);
    flow.push({ id, type: 'helper', z: byName('assistant').z });
    return id;
  };
  return { flow, id: (name: string) => byName(name).id, tap };
}
