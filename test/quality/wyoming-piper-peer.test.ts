import assert from 'node:assert/strict';
import helper from 'node-red-node-test-helper';
import { join } from 'node:path';
import piperTts from '../../nodes/piper-tts/piper-tts';
import wyomingIn from '../../nodes/wyoming-in/wyoming-in';
import wyomingOut from '../../nodes/wyoming-out/wyoming-out';
import wyomingServer from '../../nodes/wyoming-server/wyoming-server';
import type { WyomingServerNode } from '../../nodes/wyoming-server/server-node';
import { installedModel, JOE_VOICE } from '../support/real-models';
import { shape, wyoming } from '../support/wyoming-client';
import { startWyomingPiper, WYOMING_PIPER, wyomingPiperPython } from '../support/wyoming-piper';

helper.init(require.resolve('node-red'));

type Synthesized = { events: string[]; format: { rate: number; width: number; channels: number }; error: unknown };

const REQUESTS: Array<[string, Record<string, unknown>]> = [
  ['one sentence', { do: 'synthesize', text: 'The kitchen light is on.' }],
  ['two sentences', { do: 'synthesize', text: 'The kitchen light is on. The door is locked.' }],
  ['a streamed reply of three sentences', { do: 'stream', chunks: ['The kitchen ', 'light is on. The door', ' is locked. Good', 'night!'] }],
];

/**
 * Our server beside wyoming-piper, the service Home Assistant users run
 * today, both speaking the joe voice: the same requests from the official
 * client give events of the same types in the same order (runs of audio-chunk
 * counted once: chunk sizes differ, 20 ms here, 1024 samples there).
 */
describe(`wyoming server + piper-tts beside ${WYOMING_PIPER} (same voice, official client)`, function () {
  this.timeout(120_000);
  const python = wyomingPiperPython();
  const joe = installedModel(JOE_VOICE);
  let ours = 0;
  let theirs: Awaited<ReturnType<typeof startWyomingPiper>> | undefined;

  before(async function () {
    if (!python || !joe) {
      console.log(`      skipped: ${!joe ? `no model ${JOE_VOICE}` : `no ${WYOMING_PIPER} in the test virtualenv (run: bash scripts/test-models.sh)`}`);
      return this.skip();
    }
    theirs = await startWyomingPiper(python, joe, 'en_US-joe-medium');
    await helper.load(
      [wyomingServer, wyomingIn, wyomingOut, piperTts],
      [
        { id: 'f1', type: 'tab' },
        { id: 'srv', type: 'wyoming-server', port: 0, host: '127.0.0.1', asr: false, tts: true, handle: false },
        { id: 'speak', z: 'f1', type: 'wyoming-in', server: 'srv', service: 'tts', wires: [['voice']] },
        { id: 'voice', z: 'f1', type: 'piper-tts', voicePath: join(joe, 'voice.onnx'), wires: [['answer'], [], []] },
        { id: 'answer', z: 'f1', type: 'wyoming-out', server: 'srv' },
      ] as never,
    );
    ours = await (helper.getNode('srv') as unknown as WyomingServerNode).started;
  });
  after(async () => {
    await helper.unload();
    await theirs?.stop();
  });

  for (const [what, request] of REQUESTS) {
    it(`${what}: the same event sequence, the same audio format`, async () => {
      const mine = await wyoming<Synthesized>(python!, ours, request);
      const peer = await wyoming<Synthesized>(python!, theirs!.port, request);
      console.log(`      ${shape(mine.events).join(' ')}`);
      assert.deepEqual(shape(mine.events), shape(peer.events));
      assert.deepEqual(mine.format, peer.format);
      assert.equal(mine.error, null);
    });
  }

  it('both describe themselves in an Info the library parses, with the joe voice', async () => {
    for (const port of [ours, theirs!.port]) {
      const { info } = await wyoming<{ info: { tts: Array<{ voices: Array<{ name: string }>; supports_synthesize_streaming: boolean }> } }>(python!, port, { do: 'describe' });
      assert.ok(info.tts[0].voices.some((v) => v.name === 'en_US-joe-medium'));
      assert.equal(info.tts[0].supports_synthesize_streaming, true);
    }
  });
});
