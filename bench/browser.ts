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
 * after another: the first rows show that queue; the last two, speaker-out's
 * own first_audio_to_played_ms, show the browser path (WebSocket, the page's
 * jitter buffer, its receipt) alone.
 * No LLM: the rooms would then wait for each other's answers in llama-llm,
 * which answers one question at a time.
 *
 * Needs `npm run build`, Chromium and the joe voice; says so and skips otherwise.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runAsScript, type BenchRow } from './table';
import { launchVoiceChromium, openRoom, VoiceRed } from '../test/support/browser-voice';
import { CHROMIUM } from '../test/support/chromium';
import { JOE_VOICE, installedModel } from '../test/support/real-models';
import { ROOT } from '../test/support/paths';
import { until } from '../test/support/wait';

const ROOMS = ['kitchen', 'lounge', 'study', 'hall'];
const ROUNDS = 5;
const QUESTION = 'The kettle is on, and the post has come.';
const CLIP = '/work/shared/models/testdata/arctic_aew_a0001.wav';

function flow(voice: string): unknown[] {
  const nodes: unknown[] = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'sink', type: 'debug', z: 'tab', active: false, tosidebar: false, console: false, complete: 'true' },
    { id: 'tts', type: 'piper-tts', z: 'tab', version: 1, voicePath: voice, speakerId: 0, lengthScale: 1, noiseScale: 0.667, noiseW: 0.8, sentenceSilence: 0.2, frameMs: 20, threads: 1, wires: [ROOMS.map((r) => `spk-${r}`), ROOMS.map((r) => `spk-${r}`), []] },
  ];
  for (const r of ROOMS) {
    nodes.push(
      { id: `card-${r}`, type: 'sound-card', version: 2, backend: 'browser', room: r, input: '', output: '', sampleRate: 16000, frameMs: 20 },
      { id: `mic-${r}`, type: 'mic-in', z: 'tab', source: 'device', card: `card-${r}`, wavPath: '', pace: 'realtime', autoStart: true, frameMs: 20, echoCancel: false, wires: [['sink']] },
      { id: `spk-${r}`, type: 'speaker-out', z: 'tab', sink: 'device', card: `card-${r}`, wavPath: '', wavRate: 16000, wires: [['sink'], ['sink']] },
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
  const red = new VoiceRed();
  await red.start();
  const browser = await launchVoiceChromium(CLIP);
  const bench = { alone: [] as number[], together: [] as number[] };
  /** speaker-out's own figure: from a turn's first audio reaching it to the page receipting the first buffer (the browser path alone). */
  const transport = { alone: [] as number[], together: [] as number[] };
  try {
    await red.deploy(flow(join(voiceDir, 'voice.onnx')));
    const context = await browser.newContext();
    for (const r of ROOMS) await openRoom(context, red.base, r, '?processing=off');
    let turn = 0;
    /** Asks the rooms at once; resolves with each room's ms from the question to its first played buffer. */
    const ask = async (rooms: string[]): Promise<number[]> => {
      const ids = rooms.map((r) => `bench-${++turn}-${r}`);
      const from = red.sent.length;
      const at = performance.now();
      const started = new Map<string, number>();
      red.onSent = (_source, msg) => {
        const c = msg.control as { type?: string } | undefined;
        if (c?.type === 'tts-start' && ids.includes(String(msg.turnId)) && !started.has(String(msg.turnId))) started.set(String(msg.turnId), performance.now() - at);
      };
      rooms.forEach((r, i) => red.inject('tts', { payload: QUESTION, turnId: ids[i], room: r, complete: true }));
      await until(() => started.size === rooms.length, 60_000, 'every room playing');
      // Let the answers play out before the next round.
      await until(() => ids.every((id) => red.sent.slice(from).some((s) => (s.msg.control as { type?: string } | undefined)?.type === 'tts-end' && s.msg.turnId === id)), 60_000, 'every answer played');
      const waited = ids.map((id) => red.sent.slice(from).find((m) => m.msg.topic === 'metrics' && m.msg.turnId === id)?.msg.payload as { first_audio_to_played_ms?: number } | undefined);
      (rooms.length === 1 ? transport.alone : transport.together).push(...waited.map((w) => w?.first_audio_to_played_ms ?? NaN));
      return ids.map((id) => started.get(id) as number);
    };
    await ask([ROOMS[0]]); // warm-up: the voice loads
    transport.alone.length = 0;
    for (let i = 0; i < ROUNDS; i++) {
      bench.alone.push(...(await ask([ROOMS[i % ROOMS.length]])));
      bench.together.push(...(await ask(ROOMS)));
    }
  } finally {
    red.onSent = undefined;
    await browser.close();
    await red.stop();
  }
  const row = (metric: string, q: number): BenchRow => ({
    bench: 'browser',
    metric: `first sample played, ${metric} (4 rooms at once vs 1 alone, ${ROUNDS} rounds)`,
    value: quantile(bench.together, q),
    unit: 'ms',
    baseline: quantile(bench.alone, q),
  });
  const path = (metric: string, q: number): BenchRow => ({
    bench: 'browser',
    metric: `speaker-out to the page playing, ${metric} (4 rooms vs 1)`,
    value: quantile(transport.together, q),
    unit: 'ms',
    baseline: quantile(transport.alone, q),
  });
  return [row('median', 0.5), row('p90', 0.9), path('median', 0.5), path('p90', 0.9)];
}

runAsScript(module, run);
