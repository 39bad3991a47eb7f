/**
 * A synthetic conversation through the shipped voice-assistant flow in a real
 * Node-RED runtime, for as long as asked: spoken turns (a shared speech clip
 * played by mic-in), typed questions, a barge-in every third turn (the user
 * speaks over a long reply), an announcement every minute and a full
 * redeploy every ten minutes. Every few seconds it samples the memory of this
 * process and of the engine processes, the event loop's delay, the active
 * handles and the engine processes alive; after each redeploy it checks that
 * handles and engines are back to what they were at the start. Every turn it
 * starts must be spoken exactly once (a barge-in cuts one: it counts as
 * spoken, cut).
 *
 * Used by bench/soak (an hour) and test/soak (minutes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import helper from 'node-red-node-test-helper';
import { SPEECH_RATE } from '../../lib/audio/format';
import { encodeWav, readWavMono } from '../../lib/audio/wav';
import { makeControl, type ControlPayload } from '../../lib/messages/control';
import asr from '../../nodes/asr/asr';
import llamaLlm from '../../nodes/llama-llm/llama-llm';
import micIn from '../../nodes/mic-in/mic-in';
import piperTts from '../../nodes/piper-tts/piper-tts';
import soundCard from '../../nodes/sound-card/sound-card';
import speakerOut from '../../nodes/speaker-out/speaker-out';
import voiceprint from '../../nodes/voiceprint/voiceprint';
import { engineProcesses } from './engine-processes';
import { TESTDATA } from './paths';
import { shippedFlow, type FlowNode } from './shipped-flow';
import { writeTinyAsrModel } from './tiny-asr-model';
import { writeTinyPiperVoice } from './tiny-piper-voice';
import { writeTinySpeakerModel } from './tiny-speaker-model';
import { sleep, until } from './wait';

const NODES = [micIn, voiceprint, asr, llamaLlm, piperTts, speakerOut, soundCard];

export interface SoakSettings {
  durationMs: number;
  redeployEveryMs: number;
  announceEveryMs: number;
  sampleEveryMs: number;
  /** Samples before this are warm-up: growth is measured from here. */
  warmUpMs: number;
  /** A folder for the models, the mic clip and the speaker's WAV. */
  dir: string;
  /** Told about each turn and sample as it happens (progress on stderr). */
  onProgress?: (line: string) => void;
}

export interface SoakSample {
  atS: number;
  /** This process (Node-RED, the nodes, llama.cpp in-process). */
  mainRssMb: number;
  /** This process plus every engine process. */
  totalRssMb: number;
  /** This process's RSS by kind (/proc): heap and stacks (malloc, V8) vs mapped files (code, models). */
  mainAnonMb: number;
  mainFileMb: number;
  /** What V8 reserves for its heap, used or not: the part of mainAnonMb that is JavaScript's. */
  mainHeapTotalMb: number;
  /** Event-loop delay over the sample's window. */
  lagP99Ms: number;
  lagMaxMs: number;
  handles: number;
  engines: number;
}

/** This process right after a full garbage collection: what it really holds, free of GC timing. */
export interface Settled {
  atS: number;
  heapMb: number;
  /** What V8 holds for its heap, used or not: fragmentation shows as heapTotal growing over a flat heap. */
  heapTotalMb: number;
  /** Buffers and other memory JS objects own outside the heap (audio frames). */
  externalMb: number;
  rssMb: number;
}

export interface Redeploy {
  atS: number;
  handles: number;
  engines: number;
}

export interface SoakResult {
  samples: SoakSample[];
  /** Handles and engine processes once the flow was up, before the first turn. */
  start: { handles: number; engines: number };
  redeploys: Redeploy[];
  turns: Record<'spoken' | 'typed' | 'bargeIn' | 'announcement', number>;
  /** Turns started but never spoken to their end (or cut), and turns spoken more than once. */
  lost: string[];
  twice: string[];
  /** After a full GC at the end of warm-up and at the end: a JS leak shows in the heap, a native one in RSS. */
  settled: { warm?: Settled; end?: Settled };
  /** Over the whole run, warm-up excluded. */
  lagP99Ms: number;
  lagMaxMs: number;
}

type Msg = Record<string, unknown>;
const controlOf = (msg: Msg) => msg.control as ControlPayload | undefined;
const inject = (id: string, msg: Msg) => helper.getNode(id).receive(msg as never);

/** Calls `watch` for every message the node sends, as it sends it. */
function onSend(id: string, watch: (msg: Msg) => void): void {
  const node = helper.getNode(id) as unknown as { send(out: unknown): void };
  const send = node.send.bind(node);
  node.send = (out) => {
    for (const msg of [out].flat(2)) if (msg) watch(msg as Msg);
    send(out);
  };
}

/** A process's resident memory (MB) from /proc: all of it, and its anonymous and file-backed parts. */
function residentMbOf(pid: number | 'self'): { rss: number; anon: number; file: number } {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // The process ended between listing and reading: it holds nothing now.
  }
  const mb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile') };
}

/**
 * node-red-node-test-helper spies on every node's send, status and log calls
 * and keeps each call with its arguments: an hour of 20 ms audio frames would
 * pile up there (a leak of the test harness, not of the nodes).
 */
function forgetSpiedCalls(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const node = require('@node-red/runtime/lib/nodes/Node').prototype as Record<string, { resetHistory?: () => void }>;
  for (const method of ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send']) node[method]?.resetHistory?.();
  (helper.log() as unknown as { resetHistory?: () => void }).resetHistory?.();
}

/** A full GC on demand, without asking whoever runs this to start Node with --expose-gc. */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const activeHandles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

/** What the speaker said about each turn, kept across redeploys. */
class Ledger {
  readonly started = new Map<string, number>();
  readonly ended = new Map<string, { cut: boolean }>();
  userTurn: string | undefined;
  micDone = false;

  watch(ids: Record<'mic' | 'asr' | 'speaker', string>): void {
    onSend(ids.speaker, (m) => {
      const c = controlOf(m);
      if (c?.type === 'tts-start') this.started.set(c.turnId, (this.started.get(c.turnId) ?? 0) + 1);
      if (c?.type === 'tts-end') this.ended.set(c.turnId, { cut: c.cut === true });
    });
    onSend(ids.asr, (m) => {
      if (controlOf(m)?.type === 'speech-start') this.userTurn ??= controlOf(m)!.turnId;
    });
    onSend(ids.mic, (m) => {
      if (m.flush === true) this.micDone = true;
    });
  }
}

/** The shared speech clip with a second of silence after it, as a WAV for mic-in. */
export async function micClip(dir: string): Promise<string> {
  const speech = (await readWavMono(join(TESTDATA, 'arctic_aew_a0001.wav'))).samples;
  const padded = new Float32Array(speech.length + SPEECH_RATE);
  padded.set(speech);
  const path = join(dir, 'mic.wav');
  writeFileSync(path, encodeWav(padded, SPEECH_RATE));
  return path;
}

export async function soak(settings: SoakSettings): Promise<SoakResult> {
  const { dir, onProgress = () => undefined } = settings;
  const models = { asrDir: writeTinyAsrModel(dir), voice: writeTinyPiperVoice(dir), speakerModel: writeTinySpeakerModel(dir) };
  const { flow, byType } = shippedFlow(models, await micClip(dir), join(dir, 'speaker.wav'));
  // A reply long enough to talk over; the mic waits for "start".
  Object.assign(byType('mic-in'), { autoStart: false });
  Object.assign(byType('llama-llm'), { maxTokens: 200 });
  const id = (type: string) => (byType(type) as FlowNode).id;
  const ids = { mic: id('mic-in'), asr: id('asr'), llm: id('llama-llm'), tts: id('piper-tts'), speaker: id('speaker-out') };
  const ledger = new Ledger();
  const lost: string[] = [];
  const turns = { spoken: 0, typed: 0, bargeIn: 0, announcement: 0 };

  /** The flow is up when its engine processes are (asr, voiceprint, piper-tts) and llama-llm has loaded. */
  const up = async () => {
    await until(() => engineProcesses().length >= 3, 30_000, 'the engines to start');
    const done = ledger.ended.size;
    inject(ids.llm, { payload: 'Hello', turnId: `warm-${done}` });
    await until(() => ledger.ended.has(`warm-${done}`), 60_000, 'a first reply');
  };

  /** Waits for a turn to be spoken to its end (or cut); a turn that never is counts as lost, and the flow is stopped. */
  const spoken = async (turn: () => string | undefined, what: string, ms = 60_000): Promise<boolean> => {
    try {
      await until(() => turn() !== undefined && ledger.ended.has(turn()!), ms, what);
      return true;
    } catch {
      lost.push(`${what} (${turn() ?? 'no turn id'})`);
      for (const node of [ids.llm, ids.tts, ids.speaker]) inject(node, makeControl('interrupt', '*', { reason: 'stop' }));
      await sleep(1000);
      return false;
    }
  };

  const spokenTurn = async (k: number) => {
    ledger.userTurn = undefined;
    ledger.micDone = false;
    inject(ids.mic, { payload: 'start' });
    await spoken(() => ledger.userTurn, `spoken turn ${k}`);
    await until(() => ledger.micDone, 30_000, 'the clip to end');
    turns.spoken++;
  };
  const typedTurn = async (k: number) => {
    const turnId = `typed-${k}`;
    inject(ids.llm, { payload: 'Once upon a time', turnId });
    await spoken(() => turnId, `typed turn ${k}`);
    turns.typed++;
  };
  const bargeIn = async (k: number) => {
    const reply = `long-${k}`;
    inject(ids.llm, { payload: 'Tell me a long story', turnId: reply });
    await until(() => ledger.started.has(reply) || ledger.ended.has(reply), 60_000, 'the long reply to play').catch(() => undefined);
    ledger.userTurn = undefined;
    ledger.micDone = false;
    inject(ids.mic, { payload: 'start' });
    if (await spoken(() => reply, `long reply ${k}`)) {
      if (!ledger.ended.get(reply)!.cut) lost.push(`long reply ${k}: ended before the user spoke over it`);
    }
    await spoken(() => ledger.userTurn, `barge-in ${k}`);
    await until(() => ledger.micDone, 30_000, 'the clip to end');
    turns.bargeIn++;
  };
  const announce = async (k: number) => {
    const turnId = `announce-${k}`;
    inject(ids.tts, { payload: `Announcement number ${k}: the washing machine has finished.`, turnId });
    await spoken(() => turnId, `announcement ${k}`, 30_000);
    turns.announcement++;
  };

  helper.init(require.resolve('node-red'));
  await helper.load(NODES, flow as never);
  ledger.watch(ids);
  await up();
  const start = { handles: activeHandles(), engines: engineProcesses().length };
  const redeploys: Redeploy[] = [];
  const samples: SoakSample[] = [];
  const t0 = Date.now();
  const gc = fullGc();
  const settled: SoakResult['settled'] = {};
  const settle = (): Settled => {
    forgetSpiedCalls();
    gc();
    const m = process.memoryUsage();
    const mb = (bytes: number) => bytes / 2 ** 20;
    return { atS: (Date.now() - t0) / 1000, heapMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal), externalMb: mb(m.external), rssMb: mb(m.rss) };
  };
  const window = monitorEventLoopDelay({ resolution: 5 });
  const whole = monitorEventLoopDelay({ resolution: 5 });
  window.enable();
  const sampler = setInterval(() => {
    forgetSpiedCalls();
    const children = engineProcesses();
    const engineRss = children.map((pid) => residentMbOf(pid).rss);
    const main = residentMbOf('self');
    const atS = (Date.now() - t0) / 1000;
    samples.push({
      atS,
      mainRssMb: main.rss,
      totalRssMb: main.rss + engineRss.reduce((n, mb) => n + mb, 0),
      mainAnonMb: main.anon,
      mainFileMb: main.file,
      mainHeapTotalMb: process.memoryUsage().heapTotal / 2 ** 20,
      lagP99Ms: window.percentile(99) / 1e6,
      lagMaxMs: window.max / 1e6,
      handles: activeHandles(),
      engines: children.length,
    });
    window.reset();
    if (atS * 1000 >= settings.warmUpMs && !whole.count) {
      // The GC pause falls before the lag measured after warm-up starts.
      settled.warm = settle();
      whole.enable();
    }
    const s = samples.at(-1)!;
    const each = engineRss.map((mb) => mb.toFixed(1)).join(' + ');
    onProgress(`${atS.toFixed(0)} s: rss ${s.totalRssMb.toFixed(0)} MB (main ${s.mainRssMb.toFixed(0)}: anon ${s.mainAnonMb.toFixed(0)} of which V8 ${s.mainHeapTotalMb.toFixed(0)}, file ${s.mainFileMb.toFixed(0)}; engines ${each}), lag p99 ${s.lagP99Ms.toFixed(1)} ms, turns ${JSON.stringify(turns)}, lost ${lost.length}`);
  }, settings.sampleEveryMs);

  let nextAnnouncement = t0 + settings.announceEveryMs;
  let nextRedeploy = t0 + settings.redeployEveryMs;
  try {
    for (let k = 0; Date.now() - t0 < settings.durationMs; k++) {
      if (k % 3 === 0) await spokenTurn(k);
      else if (k % 3 === 1) await typedTurn(k);
      else await bargeIn(k);
      if (Date.now() >= nextAnnouncement) {
        await announce(turns.announcement);
        nextAnnouncement += settings.announceEveryMs;
      }
      if (Date.now() >= nextRedeploy) {
        await helper.setFlows(flow as never, 'full');
        ledger.watch(ids);
        await up();
        redeploys.push({ atS: (Date.now() - t0) / 1000, handles: activeHandles(), engines: engineProcesses().length });
        nextRedeploy += settings.redeployEveryMs;
      }
    }
    settled.end = settle();
  } finally {
    clearInterval(sampler);
    window.disable();
    whole.disable();
    await helper.unload();
  }
  const twice = [...ledger.started].filter(([, n]) => n > 1).map(([turn, n]) => `${turn} (${n} times)`);
  return { samples, start, redeploys, turns, lost, twice, settled, lagP99Ms: whole.percentile(99) / 1e6, lagMaxMs: whole.max / 1e6 };
}

/** RSS growth after warm-up: the last minute's median against the first minute's after warm-up. */
export function rssGrowthMb(result: SoakResult, warmUpS: number, key: 'mainRssMb' | 'totalRssMb' | 'mainAnonMb' | 'mainFileMb' | 'mainHeapTotalMb'): number {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const after = result.samples.filter((s) => s.atS >= warmUpS);
  const first = after.filter((s) => s.atS < warmUpS + 60).map((s) => s[key]);
  const endS = after.at(-1)?.atS ?? 0;
  const last = after.filter((s) => s.atS > endS - 60).map((s) => s[key]);
  return median(last) - median(first);
}
