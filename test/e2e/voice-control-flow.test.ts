import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import helper from 'node-red-node-test-helper';
import { float32ToInt16 } from '../../lib/audio/pcm';
import { parseWav } from '../../lib/audio/wav';
import type { ControlPayload } from '../../lib/messages/control';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import type { LlamaReplay } from '../support/llama-replay';
import { collect } from '../support/node-red';
import { GEMMA_LLM, installedModel } from '../support/real-models';
import { loudSpan } from '../support/signal';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';
import { toolCallingServer, type SentChat, type StreamedToolCall } from '../support/tool-call-sse';
import { CORE_NODES as core, shippedVoiceControl, voiceControlFlow } from '../support/voice-control-flow';
import { until } from '../support/wait';

helper.init(require.resolve('node-red'));

type Control = { control: ControlPayload };
type Msg = Record<string, unknown> & { payload?: unknown };

const lights = (id: string) => JSON.parse(JSON.stringify(helper.getNode(id).context().get('lights') ?? null)) as unknown;

describe('the voice-control example flow, end to end: typed question → tool call → house state → spoken confirmation', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'rv-vc-'));
  const voice = writeTinyPiperVoice(dir);
  let server: LlamaReplay;
  let calls: StreamedToolCall[];
  let answer: string[];
  beforeEach(async () => {
    calls = [{ id: 'call_1', name: 'set_light', arguments: { room: 'kitchen', on: true } }];
    answer = ['The kitchen light is on.'];
    server = await toolCallingServer(
      () => calls,
      () => answer,
    );
  });
  afterEach(async () => {
    await helper.unload();
    await server.stop();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const chats = () => server.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => JSON.parse(r.body) as SentChat);

  it('"turn on the kitchen light" (the inject, as alice) switches the light in the function node and the confirmation is spoken', async () => {
    const speakerWav = join(dir, 'kitchen.wav');
    const { flow, id, tap } = voiceControlFlow({ url: server.base }, voice, speakerWav);
    const speakerTap = tap('speaker', 0);
    await helper.load([llamaLlm, piperTts, speakerOut, soundCard, ...core], flow as never);
    const speakerControl = collect<Control>(speakerTap);
    const state = collect<Msg>(id('light state'));
    const replies = collect<Msg>(id('full reply'));
    helper.getNode(id('kitchen light on')).receive({} as never);
    await until(() => speakerControl.some((c) => c.control.type === 'tts-end'), 30_000, 'the confirmation to be spoken');
    assert.deepEqual(lights(id('house')), { kitchen: true });
    assert.deepEqual(state.map((m) => [m.topic, m.payload]), [['light/kitchen', true]]);
    assert.equal(replies[0].payload, 'The kitchen light is on.');
    const [first, second] = chats().filter((c) => c.tools);
    assert.deepEqual(first.tools?.map((t) => t.function.name), ['set_light', 'get_temperature'], 'alice is a known speaker');
    assert.deepEqual(second.messages.at(-1), { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true,"room":"kitchen","on":true}' });
    const end = speakerControl.find((c) => c.control.type === 'tts-end')!.control;
    assert.equal(end.turnId, replies[0].turnId, 'what was played is the turn of the question');
    assert.equal(end.cut, false);
    assert.ok(loudSpan(float32ToInt16(parseWav(readFileSync(speakerWav)).samples), 50) > 0, 'the speaker file holds the spoken confirmation');
  });

  it('answers get_temperature from the house, and refuses set_light to an unknown voice (the light stays off)', async () => {
    const { flow, id } = voiceControlFlow({ url: server.base }, voice, join(dir, 'refused.wav'));
    await helper.load([llamaLlm, piperTts, speakerOut, soundCard, ...core], flow as never);
    const replies = collect<Msg>(id('full reply'));
    calls = [{ id: 'call_t', name: 'get_temperature', arguments: { room: 'Kitchen' } }];
    answer = ['It is 21.5 degrees in the kitchen.'];
    helper.getNode(id('how warm is it?')).receive({} as never);
    await until(() => replies.length === 1, 20_000, 'the temperature');
    assert.equal(chats().at(-1)!.messages.at(-1)!.content, '{"room":"kitchen","celsius":21.5}');
    calls = [{ id: 'call_2', name: 'set_light', arguments: { room: 'kitchen', on: true } }];
    answer = ['Sorry, I cannot do that for a voice I do not know.'];
    helper.getNode(id('assistant')).receive({ payload: 'Turn on the kitchen light', speaker: { name: 'unknown', score: 0.3 } } as never);
    await until(() => replies.length === 2, 20_000, 'the refusal');
    assert.equal(lights(id('house')), null, 'no light was switched');
    const sent = chats().at(-1)!;
    assert.deepEqual(sent.tools?.map((t) => t.function.name), ['get_temperature']);
    assert.match(sent.messages[0].content!, /may not use these actions for them: set_light/);
  });

  it(`with the real ${GEMMA_LLM} inside Node-RED, a required call switches a light and the model's words are spoken`, async function () {
    const model = installedModel(GEMMA_LLM);
    if (!model) {
      console.log(`      skipped: no model ${GEMMA_LLM} (installed by scripts/test-models.sh)`);
      this.skip();
    }
    this.timeout(240_000);
    const speakerWav = join(dir, 'gemma.wav');
    const shipped = shippedVoiceControl();
    // set_light alone, so that the forced call is that one.
    const setLight = (JSON.parse(shipped.find((n) => n.type === 'llama-llm')!.tools as string) as { name: string }[]).filter((t) => t.name === 'set_light');
    const gemma = { url: '', modelPath: join(model, 'model.gguf'), threads: 1, contextSize: 1024, maxTokens: 24, temperature: 0, tools: JSON.stringify(setLight) };
    const { flow, id, tap } = voiceControlFlow(gemma, voice, speakerWav);
    const speakerTap = tap('speaker', 0);
    await helper.load([llamaLlm, piperTts, speakerOut, soundCard, ...core], flow as never);
    const speakerControl = collect<Control>(speakerTap);
    const state = collect<Msg>(id('light state'));
    const replies = collect<Msg>(id('full reply'));
    // A base model never thinks of calling by itself: the flow asks for a call, grammar-forced.
    helper.getNode(id('assistant')).receive({ payload: 'Turn on the kitchen light', speaker: { name: 'alice', score: 1 }, toolChoice: 'required' } as never);
    await until(() => replies.length === 1, 200_000, "gemma's reply");
    const house = lights(id('house')) as Record<string, unknown>;
    // The grammar allows only set_light's schema: a room (a string, the key) and a boolean.
    assert.equal(Object.keys(house).length, 1, JSON.stringify(house));
    assert.equal(typeof Object.values(house)[0], 'boolean');
    assert.equal(state.length, 1);
    assert.ok(String(replies[0].payload).trim().length > 0, 'the model went on in words after the result');
    await until(() => speakerControl.some((c) => c.control.type === 'tts-end'), 60_000, 'the reply to be spoken');
    assert.ok(loudSpan(float32ToInt16(parseWav(readFileSync(speakerWav)).samples), 50) > 0, 'spoken');
  });
});
