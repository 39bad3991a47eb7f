import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import asr from '../../nodes/asr/asr';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import micIn from '../../nodes/mic-in/mic-in';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import voiceprint from '../../nodes/voiceprint/voiceprint';
import { ROOT } from '../support/paths';

helper.init(require.resolve('node-red'));

const FLOWS = join(ROOT, 'flows');
const OUR_TYPES = new Set(['llama-llm', 'piper-tts', 'asr', 'voiceprint', 'mic-in', 'speaker-out', 'sound-card']);

describe('shipped example flows', () => {
  afterEach(() => helper.unload());

  for (const file of readdirSync(FLOWS).filter((f) => f.endsWith('.json'))) {
    it(`${file} deploys in a real runtime with every node created`, async () => {
      const nodes = JSON.parse(readFileSync(join(FLOWS, file), 'utf8')) as { id: string; type: string; z?: string; wires?: string[][] }[];
      assert.ok(nodes.some((n) => n.type === 'comment'), 'each example explains itself in a comment node');
      const ids = new Set(nodes.map((n) => n.id));
      for (const n of nodes) for (const out of n.wires ?? []) for (const target of out) assert.ok(ids.has(target), `${file}: ${n.id} wired to missing ${target}`);
      // Core nodes the test helper does not load by itself become helper nodes; ours load for real.
      const tab = { id: 'tab1', type: 'tab' };
      const flow = [tab, ...nodes.filter((n) => n.type !== 'tab').map((n) => ({ ...n, z: 'tab1', type: OUR_TYPES.has(n.type) ? n.type : 'helper' }))];
      await helper.load([llamaLlm, piperTts, asr, voiceprint, micIn, speakerOut, soundCard], flow as never);
      for (const n of nodes.filter((x) => OUR_TYPES.has(x.type))) assert.ok(helper.getNode(n.id), `${n.type} ${n.id} was not created`);
    });
  }
});
