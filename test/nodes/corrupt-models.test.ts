/**
 * Present-but-corrupt model files, for every engine node and model kind, in a
 * real Node-RED runtime inside this test process: a native abort would end
 * the whole mocha run. Each case must leave Node-RED up, show a red status
 * and an error a Catch node sees, keep another flow running, and recover once
 * the file is fixed and the flow deployed again.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import helper from 'node-red-node-test-helper';
import asrNode from '../../nodes/asr/asr';
import llamaLlmNode from '../../nodes/llama-llm/llama-llm';
import piperTtsNode from '../../nodes/piper-tts/piper-tts';
import voiceprintNode from '../../nodes/voiceprint/voiceprint';
import { ggufWith } from '../support/gguf-edit';
import { collect, nextMessage } from '../support/node-red';
import { writeModel } from '../support/onnx-builder';
import { SHARED_MODELS } from '../support/paths';
import { installedModel } from '../support/real-models';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { until } from '../support/wait';

helper.init(require.resolve('node-red'));
// The unrelated flow is an ordinary function node, as users have beside the voice flow.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require('@node-red/nodes/core/function/10-function.js');

const dir = mkdtempSync(join(tmpdir(), 'rv-corrupt-'));
const SILERO = join(SHARED_MODELS, 'vad', 'silero_vad.onnx');
const GGUF = join(SHARED_MODELS, 'llm', 'stories260K.gguf');
const good = {
  vad: SILERO,
  asr: join(writeTinyAsrModel(dir), 'model.onnx'),
  speaker: writeTinySpeakerModel(dir),
  voice: writeTinyPiperVoice(dir),
  gguf: GGUF,
};

type Damage = (goodFile: string) => Buffer;
/** Ways a download goes wrong or a user picks the wrong file. */
const truncated: Damage = (f) => readFileSync(f).subarray(0, Math.floor(readFileSync(f).length / 3));
const randomBytes: Damage = (f) => Buffer.from(Array.from({ length: Math.min(readFileSync(f).length, 400_000) }, (_, i) => (i * 2654435761) >>> 24));
/** A well-formed ONNX model of another kind (the speaker model where a VAD belongs...). */
const wrongGraph = (other: string): Damage => () => readFileSync(other);
/** Framing and the recogniser's metadata read fine, but the graph holds an operator nobody knows. */
const garbledGraph: Damage = () => {
  const path = join(dir, 'garbled.onnx');
  writeModel(path, {
    inputs: [{ name: 'audio_signal', type: 'float', shape: ['N', 80, 'T'] }, { name: 'length', type: 'int64', shape: ['N'] }],
    outputs: [{ name: 'logprobs', type: 'float', shape: ['N', 'T', 2] }],
    nodes: [{ op: 'NoSuchOperator', inputs: ['audio_signal'], outputs: ['logprobs'] }],
    initializers: [],
    metadata: { model_type: 'EncDecCTCModelBPE', vocab_size: 2, subsampling_factor: 1, normalize_type: '' },
  });
  return readFileSync(path);
};
/** A GGUF whose magic is right and whose header is nonsense. */
const badGgufHeader: Damage = (f) => {
  const bytes = Buffer.from(readFileSync(f));
  bytes.fill(0xff, 4, 64);
  return bytes;
};

/** Well-formed GGUFs whose header values make llama.cpp abort (a failed GGML_ASSERT): at load, and at the first token. */
const noAttentionHeads: Damage = (f) => ggufWith(f, { 'llama.attention.head_count': 0 });
const nanNormEpsilon: Damage = (f) => ggufWith(f, { 'llama.attention.layer_norm_rms_epsilon': Number.NaN });

interface Case {
  node: string;
  kind: keyof typeof good;
  damage: [string, Damage][];
  /** The flow under test, given the model file to use. */
  flow(file: string): { type: string; wires: string[][] } & Record<string, unknown>;
  module: unknown;
  /** A message the node would normally take. */
  input: Record<string, unknown>;
}

const audioFrame = { payload: Buffer.alloc(640), audio: { sampleRate: 16000, channels: 1, format: 's16le' } };

const cases: Case[] = [
  {
    node: 'asr',
    kind: 'vad',
    damage: [['truncated', truncated], ['random bytes', randomBytes], ['a valid ONNX of the wrong graph', wrongGraph(good.speaker)]],
    flow: (file) => ({ type: 'asr', vadModel: file, modelDir: '', wires: [[], [], []] }),
    module: asrNode,
    input: audioFrame,
  },
  {
    node: 'asr',
    kind: 'asr',
    damage: [['truncated', truncated], ['random bytes', randomBytes], ['a valid ONNX of the wrong graph', wrongGraph(good.speaker)], ['framing and metadata fine, graph garbled', garbledGraph]],
    flow: (file) => ({ type: 'asr', vadModel: SILERO, modelDir: join(file, '..'), wires: [[], [], []] }),
    module: asrNode,
    input: audioFrame,
  },
  {
    node: 'voiceprint',
    kind: 'speaker',
    damage: [['truncated', truncated], ['random bytes', randomBytes], ['a valid ONNX of the wrong graph', wrongGraph(SILERO)]],
    flow: (file) => ({ type: 'voiceprint', mode: 'tag', model: file, vadModel: SILERO, wires: [[], []] }),
    module: voiceprintNode,
    input: audioFrame,
  },
  {
    node: 'voiceprint',
    kind: 'vad',
    damage: [['random bytes', randomBytes]],
    flow: (file) => ({ type: 'voiceprint', mode: 'tag', model: good.speaker, vadModel: file, wires: [[], []] }),
    module: voiceprintNode,
    input: audioFrame,
  },
  {
    node: 'piper-tts',
    kind: 'voice',
    damage: [['truncated', truncated], ['random bytes', randomBytes], ['a valid ONNX of the wrong graph', wrongGraph(good.speaker)]],
    flow: (file) => ({ type: 'piper-tts', voicePath: file, wires: [[], [], []] }),
    module: piperTtsNode,
    input: { payload: 'Hello there.' },
  },
  {
    node: 'llama-llm',
    kind: 'gguf',
    damage: [
      ['truncated', truncated],
      ['a bad header', badGgufHeader],
      ['random bytes', randomBytes],
      ['a header that makes llama.cpp abort at load (no attention heads)', noAttentionHeads],
      ['a header that makes llama.cpp abort at the first token (NaN norm epsilon)', nanNormEpsilon],
    ],
    flow: (file) => ({ type: 'llama-llm', modelPath: file, threads: 1, contextSize: 256, wires: [[], [], [], []] }),
    module: llamaLlmNode,
    input: { payload: 'Hello?' },
  },
];

type StatusMsg = { status: { fill?: string; text?: string } };
type Caught = { error: { message: string } };
type Spy = { args: unknown[][] };
/** What the node logged with node.error (the log and the debug sidebar). */
const loggedErrors = () => ((helper.getNode('n') as unknown as { error: Spy }).error.args).map((a) => String((a[0] as Error)?.message ?? a[0]));

/** The node under test, a Catch and a Status node watching it, and an unrelated flow on another tab. */
function flow(nodeUnderTest: { type: string; wires: string[][] } & Record<string, unknown>) {
  return [
    { id: 'f1', type: 'tab' },
    { ...nodeUnderTest, id: 'n', z: 'f1', name: 'under test' },
    { id: 'catcher', z: 'f1', type: 'catch', scope: ['n'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
    { id: 'watch', z: 'f1', type: 'status', scope: ['n'], wires: [['statuses']] },
    { id: 'statuses', z: 'f1', type: 'helper' },
    { id: 'f2', type: 'tab' },
    { id: 'other', z: 'f2', type: 'function', func: 'msg.payload = msg.payload * 2; return msg;', wires: [['otherOut']] },
    { id: 'otherOut', z: 'f2', type: 'helper' },
  ];
}

async function otherFlowAnswers(): Promise<void> {
  const out = nextMessage<{ payload: number }>('otherOut');
  helper.getNode('other').receive({ payload: 21 } as never);
  assert.equal((await out).payload, 42, 'the unrelated flow still runs');
}

describe('corrupt model files (real runtime): Node-RED stays up, the node says what to do, a fix recovers', function () {
  this.timeout(60_000);
  afterEach(() => helper.unload());
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of cases) {
    for (const [what, damage] of c.damage) {
      it(`${c.node}, ${c.kind} model ${what}`, async () => {
        const caseDir = mkdtempSync(join(dir, 'case-'));
        const goodFile = good[c.kind];
        const file = c.kind === 'asr' ? join(caseDir, 'model', 'model.onnx') : join(caseDir, `model${goodFile.slice(goodFile.lastIndexOf('.'))}`);
        mkdirSync(join(file, '..'), { recursive: true });
        if (c.kind === 'asr') copyFileSync(join(goodFile, '..', 'tokens.txt'), join(file, '..', 'tokens.txt'));
        if (c.kind === 'voice') copyFileSync(`${goodFile}.json`, `${file}.json`);
        writeFileSync(file, damage(goodFile));

        await helper.load([c.module, functionNode] as never, flow(c.flow(file)));
        const statuses = collect<StatusMsg>('statuses');
        await until(() => statuses.some((s) => s.status.fill === 'red'), 20_000, 'a red status');
        const red = statuses.find((s) => s.status.fill === 'red')!;
        assert.ok(red.status.text && red.status.text.length < 20 && red.status.text !== c.node, `a short status that says something: "${red.status.text}"`);
        await until(() => loggedErrors().length > 0, 5000, 'an error in the log');
        const [logged] = loggedErrors();
        assert.match(logged, /model|file|GGUF|voice/i, logged);
        assert.match(logged, /download|choose|pick|another|pull/i, `the error says what to do: ${logged}`);
        // A message sent to the broken node reaches a Catch node with the same reason.
        const caught = collect<Caught>('caught');
        helper.getNode('n').receive(c.input as never);
        await until(() => caught.length > 0, 5000, 'an error on the Catch node');
        assert.match(caught[0].error.message, /download|choose|pick|another|pull/i, caught[0].error.message);
        await otherFlowAnswers();

        // The user puts the right file in place and deploys again.
        copyFileSync(goodFile, file);
        await helper.unload();
        await helper.load([c.module, functionNode] as never, flow(c.flow(file)));
        const after = collect<StatusMsg>('statuses');
        await until(() => after.some((s) => s.status.fill === 'green'), 30_000, 'a green status after the fix');
        assert.equal(after.filter((s) => s.status.fill === 'red').length, 0, JSON.stringify(after));
        await otherFlowAnswers();
      });
    }
  }
});

/**
 * The turn model is not a node setting: the asr node takes the installed one
 * (turn-smart-turn-v3 in $VOICE_MODELS_DIR). A damaged install must turn the
 * node red with what to do, like any other model file, and a fixed one recover.
 */
describe('a corrupt turn model (real runtime): the asr node goes red and says what to do, a fix recovers', function () {
  this.timeout(60_000);
  const installed = installedModel('turn-smart-turn-v3');
  const savedModelsDir = process.env.VOICE_MODELS_DIR;
  const made: string[] = [];
  after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  before(function () {
    if (installed) return;
    console.log('      skipped: no model (turn-smart-turn-v3: run scripts/test-models.sh)');
    this.skip();
  });
  afterEach(async () => {
    await helper.unload();
    if (savedModelsDir === undefined) delete process.env.VOICE_MODELS_DIR;
    else process.env.VOICE_MODELS_DIR = savedModelsDir;
  });

  for (const [what, damage] of [['truncated', truncated], ['random bytes', randomBytes], ['a valid ONNX of the wrong graph', wrongGraph(SILERO)]] as const) {
    it(`asr, turn model ${what}`, async () => {
      const models = mkdtempSync(join(tmpdir(), 'rv-corrupt-turn-'));
      cpSync(installed!, join(models, 'turn-smart-turn-v3'), { recursive: true });
      const file = join(models, 'turn-smart-turn-v3', readdirSync(installed!).find((f) => f.endsWith('.onnx'))!);
      writeFileSync(file, damage(file));
      process.env.VOICE_MODELS_DIR = models;
      made.push(models);
      const asr = { type: 'asr', vadModel: SILERO, modelDir: '', endOfTurn: 'turn-model', wires: [[], [], []] };
      await helper.load([asrNode, functionNode] as never, flow(asr));
      const statuses = collect<StatusMsg>('statuses');
      await until(() => statuses.some((s) => s.status.fill === 'red'), 20_000, 'a red status');
      assert.equal(statuses.find((s) => s.status.fill === 'red')!.status.text, 'bad turn model');
      await until(() => loggedErrors().length > 0, 5000, 'an error in the log');
      assert.match(loggedErrors()[0], /models pull turn-smart-turn-v3/, loggedErrors()[0]);
      await otherFlowAnswers();

      copyFileSync(join(installed!, basename(file)), file);
      await helper.unload();
      await helper.load([asrNode, functionNode] as never, flow(asr));
      const after = collect<StatusMsg>('statuses');
      await until(() => after.some((s) => s.status.fill === 'green'), 30_000, 'a green status after the fix');
      await otherFlowAnswers();
    });
  }
});
