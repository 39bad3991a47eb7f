import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import asrNode from '../../nodes/asr/asr';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import piperTts from '../../nodes/piper-tts/piper-tts';
import wyomingIn from '../../nodes/wyoming-in/wyoming-in';
import wyomingOut from '../../nodes/wyoming-out/wyoming-out';
import wyomingServer from '../../nodes/wyoming-server/wyoming-server';
import type { WyomingServerNode } from '../../nodes/wyoming-server/server-node';
import { installedModels } from '../../lib/models/installed';
import { scoringWords, wordErrors } from '../../lib/text/wer';
import { ROOT, TESTDATA } from '../support/paths';
import { GEMMA_LLM, installedModel, JOE_VOICE, SILERO_VAD } from '../support/real-models';
import { until } from '../support/wait';
import { NO_WYOMING, shape, wyoming, wyomingPython } from '../support/wyoming-client';

helper.init(require.resolve('node-red'));

type Node = { id: string; type: string; [key: string]: unknown };

/**
 * The shipped flows/home-assistant.json as a user imports it, with the models
 * scripts/test-models.sh installs (joe, gemma-3-270m, Silero VAD, Whisper
 * tiny.en; without a recogniser asr runs VAD only), answering the official client. Changed for
 * the test only: any free port, and short LLM answers.
 */
describe('shipped flow home-assistant.json with the official wyoming client', function () {
  this.timeout(180_000);
  const python = wyomingPython();
  const missing = [JOE_VOICE, GEMMA_LLM, SILERO_VAD].filter((m) => !installedModel(m));
  let port = 0;
  let serverId = '';

  before(async function () {
    if (!python || missing.length) {
      console.log(`      ${python ? `skipped: no model ${missing.join(', ')}` : NO_WYOMING}`);
      return this.skip();
    }
    const shipped = JSON.parse(readFileSync(join(ROOT, 'flows', 'home-assistant.json'), 'utf8')) as Node[];
    assert.ok(shipped.filter((n) => n.type === 'comment').length >= 3, 'the flow explains itself');
    // Comments (core nodes the test helper does not load) become helper nodes.
    const nodes = shipped.map((n) =>
      n.type === 'wyoming-server' ? { ...n, port: 0 } : n.type === 'llama-llm' ? { ...n, maxTokens: 24 } : n.type === 'comment' ? { ...n, type: 'helper' } : n,
    );
    serverId = shipped.find((n) => n.type === 'wyoming-server')!.id;
    await helper.load([wyomingServer, wyomingIn, wyomingOut, asrNode, piperTts, llamaLlm], nodes as never);
    port = await (helper.getNode(serverId) as unknown as WyomingServerNode).started;
  });
  after(() => helper.unload());

  it('describes itself, speaks, answers, and transcribes (VAD only: an empty transcript), leaving no socket open'.replace('VAD only: an empty transcript', installedModels('asr').length ? 'the installed recogniser' : 'VAD only: an empty transcript'), async () => {
    const { info } = await wyoming<{ info: { tts: Array<{ voices: Array<{ name: string }> }>; handle: Array<{ name: string; models: Array<{ name: string }> }> } }>(python!, port, { do: 'describe' });
    assert.ok(info.tts[0].voices.some((v) => v.name === 'en_US-joe-medium'));
    assert.ok(info.handle[0].models.some((m) => m.name === GEMMA_LLM));
    const spoken = await wyoming<{ events: string[]; bytes: number }>(python!, port, { do: 'synthesize', text: 'The kitchen light is on.' });
    assert.deepEqual(shape(spoken.events), ['audio-start', 'audio-chunk', 'audio-stop']);
    assert.ok(spoken.bytes > 22050, 'more than half a second of speech');
    const answer = await wyoming<{ events: string[]; text: string }>(python!, port, { do: 'handle', text: 'What colour is the sky?' });
    assert.deepEqual(answer.events, ['handled']);
    assert.ok(answer.text.trim(), 'gemma answered');
    const heard = await wyoming<{ events: string[]; text: string }>(python!, port, { do: 'transcribe', wav: join(TESTDATA, 'arctic_axb_a0004.wav'), chunk: 2048 });
    assert.deepEqual(heard.events, ['transcript']);
    if (installedModels('asr').length) {
      const truth = scoringWords("Lord, but I'm glad to see you again, Phil.");
      const errors = wordErrors(truth, scoringWords(heard.text));
      console.log(`      ${installedModels('asr')[0].name} heard "${heard.text}" (${errors} word errors)`);
      assert.ok(errors <= 3, heard.text);
    } else {
      assert.equal(heard.text, '', 'no recogniser installed: the VAD hears speech, nobody writes it down');
    }
    const { server } = helper.getNode(serverId) as unknown as WyomingServerNode;
    await until(() => server.clients === 0, 5000, 'the sockets to close');
  });
});
