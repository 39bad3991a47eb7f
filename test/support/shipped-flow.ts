import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SHARED_MODELS } from './paths';

export type FlowNode = { id: string; type: string; name?: string; z?: string; wires?: string[][]; [key: string]: unknown };

const shippedNodes = () => JSON.parse(readFileSync(join(ROOT, 'flows', 'voice-assistant.json'), 'utf8')) as FlowNode[];

/** A sound device by the name the sound-card node's backend lists it under (instead of a WAV file). */
export type Device = { device: string };

/**
 * The shipped voice-assistant flow, as a user imports it, with only what a
 * user would change: the models (tiny ones the tests generate), a WAV file as
 * the microphone and a WAV file as the speaker, or devices of a sound card
 * (the flow's own sound-card node, default backend, pointed at them). Core
 * nodes become test taps; tap() adds one more on any output.
 */
export function shippedFlow(
  models: { asrDir: string; voice: string; speakerModel: string },
  micWav: string | Device,
  speakerWav: string | Device,
): { flow: FlowNode[]; byType: (type: string) => FlowNode; tap: (type: string, output: number) => string } {
  const nodes = shippedNodes();
  const byType = (type: string) => nodes.find((n) => n.type === type) as FlowNode;
  const vad = join(SHARED_MODELS, 'vad', 'silero_vad.onnx');
  if (typeof micWav === 'string') Object.assign(byType('mic-in'), { source: 'wav', wavPath: micWav, pace: 'realtime' });
  else Object.assign(byType('sound-card'), { input: micWav.device });
  Object.assign(byType('voiceprint'), { model: models.speakerModel, vadModel: vad });
  Object.assign(byType('asr'), { modelDir: models.asrDir, vadModel: vad });
  Object.assign(byType('llama-llm'), { modelPath: join(SHARED_MODELS, 'llm', 'stories260K.gguf'), threads: 1, contextSize: 512, maxTokens: 30, temperature: 0, style: 'none' });
  Object.assign(byType('piper-tts'), { voicePath: models.voice });
  if (typeof speakerWav === 'string') Object.assign(byType('speaker-out'), { sink: 'wav', wavPath: speakerWav });
  else Object.assign(byType('sound-card'), { output: speakerWav.device });
  const tab = nodes.find((n) => n.type === 'tab') as FlowNode;
  // Taps on the control wires, so the test sees what the nodes tell each other.
  byType('asr').wires?.[1].push('tap-asr-control');
  byType('speaker-out').wires?.[0].push('tap-speaker-control');
  const ours = new Set(['mic-in', 'voiceprint', 'asr', 'llama-llm', 'piper-tts', 'speaker-out', 'sound-card', 'tab']);
  const flow = nodes.map((n) => (ours.has(n.type) ? n : { ...n, type: 'helper' }));
  flow.push({ id: 'tap-asr-control', type: 'helper', z: tab.id }, { id: 'tap-speaker-control', type: 'helper', z: tab.id });
  const tap = (type: string, output: number): string => {
    const id = `tap-${type}-${output}`;
    if (!flow.some((n) => n.id === id)) {
      byType(type).wires?.[output].push(id);
      flow.push({ id, type: 'helper', z: tab.id });
    }
    return id;
  };
  return { flow, byType, tap };
}


/** A flow of shippedFlow() as a real Node-RED runs it (flows.json): its taps gone, its core nodes (inject, debug) back. */
export function runtimeFlow(flow: FlowNode[]): FlowNode[] {
  const types = new Map(shippedNodes().map((n) => [n.id, n.type]));
  const taps = new Set(flow.filter((n) => !types.has(n.id)).map((n) => n.id));
  return flow
    .filter((n) => !taps.has(n.id))
    .map((n) => ({ ...n, type: types.get(n.id) as string, ...(n.wires ? { wires: n.wires.map((w) => w.filter((id) => !taps.has(id))) } : {}) }));
}
