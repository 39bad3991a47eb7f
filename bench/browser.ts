/**
 * Browser rooms (issue #18): four rooms, each a headless Chromium page on its
 * own browser sound card, each asked a typed question at the same moment,
 * against one room asked alone, in the same run and the same flow. The
 * question is spoken by piper-tts (the joe voice, one node for all rooms, as
 * in flows/browser-rooms.json) and played by each room's speaker-out to its
 * page; "first sample played" is from the question to the room's tts-start,
 * which speaker-out sends when the page receipts the first buffer it plays.
 * All four pages also stream their (fake) microphone into mic-in meanwhile.
 * With one piper-tts for all rooms, four questions at once are synthesised one
 * after another: the first rows show that queue; speaker-out's own
 * first_audio_to_played_ms shows the browser path (WebSocket, the page's
 * jitter buffer, its receipt) alone.
 * Then the same with the question typed to the shared llama-llm (gemma-3-270m),
 * as the shipped flow does: from the question to the room's first played
 * sample, with a lane per room (Rooms at once: 4, the rooms answered side by
 * side from the one model), and again with one lane (the rooms in turn).
 *
 * Needs `npm run build`, Chromium and the joe voice (and gemma-3-270m for the
 * llama-llm rows); says so and skips otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAsScript, type BenchRow } from './table';
import { launchVoiceChromium, openRoom, VoiceRed } from '../test/support/browser-voice';
import { CHROMIUM } from '../test/support/chromium';
import { GEMMA_LLM, JOE_VOICE, installedModel } from '../test/support/real-models';
import { ROOT } from '../test/support/paths';
import { until } from '../test/support/wait';

const ROOMS = ['kitchen', 'lounge', 'study', 'hall'];
const ROUNDS = 5;
const QUESTION = 'The kettle is on, and the post has come.';
/** A question of each room's own for the assistant: the same words would give the same answer in every room. */
const ASKED: Record<string, string> = { kitchen: 'What can I cook tonight?', lounge: 'Tell me a short joke.', study: 'How do I stay focused?', hall: 'Is it cold outside?' };
const CLIP = '/work/shared/models/testdata/arctic_aew_a0001.wav';

/** A node of flows/browser-rooms.json, with the settings a user imports. */
const shippedNode = (type: string): Record<string, unknown> =>
  (JSON.parse(readFileSync(join(ROOT, 'flows', 'browser-rooms.json'), 'utf8')) as Array<Record<string, unknown>>).find((n) => n.type === type) as Record<string, unknown>;

function flow(voice: string, gguf: string | undefined, lanes: number): unknown[] {
  const nodes: unknown[] = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'sink', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'true' },
    ...(gguf
      ? [{ ...shippedNode('llama-llm'), id: 'llm', z: 'tab', modelPath: gguf, threads: 0, maxTokens: 40, lanes, wires: [['tts'], ['sink'], [], [], ['sink']] }]
      : []),
    { id: 'tts', type: 'piper-tts', z: 'tab', version: 1, voicePath: voice, speakerId: 0, lengthScale: 1, noiseScale: 0.667, noiseW: 0.8, sentenceSilence: 0.2, frameMs: 20, threads: 1, wires: [ROOMS.map((r) => `spk-${r}`), ROOMS.map((r) => `spk-${r}`), []] },
  ];
  for (const r of ROOMS) {
    nodes.push(
      { id: `card-${r}`, type: 'sound-card', version: 2, backend: 'browser', room: r, input: '', output: '', sampleRate: 16000, frameMs: 20 },
      { id: `mic-${r}`, type: 'mic-in', z: 'tab', source: 'device', card: `card-${r}`, wavPath: '', pace: 'realtime', autoStart: true, frameMs: 20, echoCancel: false, wires: [['sink']] },
      // tts-start / tts-end back to llama-llm: its history keeps what each room heard.
      { id: `spk-${r}`, type: 'speaker-out', z: 'tab', sink: 'device', card: `card-${r}`, wavPath: '', wavRate: 16000, wires: [gguf ? ['sink', 'llm'] : ['sink'], ['sink']] },
    );
  }
  return nodes;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};

export async function run(): Promise<BenchRow[]> {
  const voiceDir = installedModel(JOE_VOICE);
  if (!existsSync(CHROMIUM) || !voiceDir || !existsSync(join(ROOT, 'dist', 'lib', 'browser-page'))) {
    process.stderr.write('browser: skipped (needs Chromium, the joe voice and npm run build)\n');
    return [];
  }
  const llmDir = installedModel(GEMMA_LLM);
  if (!llmDir) process.stderr.write(`browser: the llama-llm rows skipped: no model (${GEMMA_LLM}; run: bash scripts/test-models.sh)\n`);
  const red = new VoiceRed();
  await red.start();
  const browser = await launchVoiceChromium(CLIP);
  type Figures = { alone: number[]; together: number[] };
  const figures = () => ({ alone: [], together: [] }) as Figures;
  /** From the question to the room's first played buffer, asked of piper-tts (spoken as it is), of llama-llm with a lane per room, and with one lane. */
  const played = { tts: figures(), llm: figures(), oneLane: figures() };
  /** speaker-out's own figure: from a turn's first audio reaching it to the page receipting the first buffer (the browser path alone). */
  const transport = figures();
  try {
    const deploy = async (lanes: number) => {
      await red.deploy(flow(join(voiceDir, 'voice.onnx'), llmDir && join(llmDir, 'model.gguf'), lanes));
      // The pages reconnect by themselves after a redeploy: wait until every room streams again.
      await until(() => ROOMS.every((r) => red.sent.some((s) => s.source === `mic-${r}`)), 60_000, 'every page streaming');
    };
    await red.deploy(flow(join(voiceDir, 'voice.onnx'), llmDir && join(llmDir, 'model.gguf'), ROOMS.length));
    const context = await browser.newContext();
    for (const r of ROOMS) await openRoom(context, red.base, r, '?processing=off');
    let turn = 0;
    /** Asks the rooms at once; resolves with each room's ms from the question to its first played buffer. */
    const ask = async (rooms: string[], via: 'tts' | 'llm', into = played[via]): Promise<void> => {
      const ids = rooms.map((r) => `bench-${++turn}-${r}`);
      const from = red.sent.length;
      const at = performance.now();
      const started = new Map<string, number>();
      red.onSent = (_source, msg) => {
        const c = msg.control as { type?: string } | undefined;
        if (c?.type === 'tts-start' && ids.includes(String(msg.turnId)) && !started.has(String(msg.turnId))) started.set(String(msg.turnId), performance.now() - at);
      };
      rooms.forEach((r, i) => red.inject(via, via === 'tts' ? { payload: QUESTION, turnId: ids[i], room: r, complete: true } : { payload: ASKED[r], turnId: ids[i], room: r }));
      await until(() => started.size === rooms.length, 120_000, 'every room playing');
      // Let the answers play out before the next round.
      await until(() => ids.every((id) => red.sent.slice(from).some((s) => (s.msg.control as { type?: string } | undefined)?.type === 'tts-end' && s.msg.turnId === id)), 120_000, 'every answer played');
      const how = rooms.length === 1 ? 'alone' : 'together';
      into[how].push(...ids.map((id) => started.get(id) as number));
      if (via === 'tts') {
        const waited = ids.map((id) => red.sent.slice(from).find((m) => m.msg.topic === 'metrics' && m.msg.stage === 'speaker' && m.msg.turnId === id)?.msg.payload as { first_audio_to_played_ms?: number } | undefined);
        transport[how].push(...waited.map((w) => w?.first_audio_to_played_ms ?? NaN));
      }
    };
    const paths = llmDir ? (['tts', 'llm'] as const) : (['tts'] as const);
    // Warm-up: the voice and the model load.
    for (const via of paths) await ask([ROOMS[0]], via);
    for (const f of [played.tts, played.llm, transport]) f.alone.length = f.together.length = 0;
    for (let i = 0; i < ROUNDS; i++) {
      for (const via of paths) {
        await ask([ROOMS[i % ROOMS.length]], via);
        await ask(ROOMS, via);
      }
    }
    if (llmDir) {
      // The same questions with one lane: the rooms take the model in turn.
      await deploy(1);
      await ask([ROOMS[0]], 'llm', figures());
      for (let i = 0; i < ROUNDS; i++) await ask(ROOMS, 'llm', played.oneLane);
    }
  } finally {
    red.onSent = undefined;
    await browser.close();
    await red.stop();
  }
  const rows = (f: Figures, metric: string): BenchRow[] =>
    (
      [
        ['median', 0.5],
        ['p90', 0.9],
      ] as const
    ).map(([q, at]) => ({ bench: 'browser', metric: `${metric}, ${q} (4 rooms at once vs 1 alone, ${ROUNDS} rounds)`, value: quantile(f.together, at), unit: 'ms', baseline: quantile(f.alone, at) }));
  return [
    ...rows(played.tts, 'text to piper-tts -> first sample played'),
    ...rows(transport, 'speaker-out -> the page playing'),
    ...(llmDir
      ? [
          ...rows(played.llm, `question to llama-llm (${GEMMA_LLM}, a lane per room) -> first sample played`),
          { bench: 'browser', metric: `question to llama-llm -> first sample played, median, 4 rooms at once: a lane per room vs one lane`, value: quantile(played.llm.together, 0.5), unit: 'ms', baseline: quantile(played.oneLane.together, 0.5) },
          { bench: 'browser', metric: `question to llama-llm -> first sample played, p90, 4 rooms at once: a lane per room vs one lane`, value: quantile(played.llm.together, 0.9), unit: 'ms', baseline: quantile(played.oneLane.together, 0.9) },
        ]
      : []),
  ];
}

runAsScript(module, run);
