import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchSecuredNodeRed, type SecuredNodeRed } from '../support/admin-auth';
import { engineProcesses } from '../support/engine-processes';
import { runtimeFlow, shippedFlow, type FlowNode } from '../support/shipped-flow';
import { writeTinyAsrModel } from '../support/tiny-asr-model';
import { writeTinyPiperVoice } from '../support/tiny-piper-voice';
import { writeTinySpeakerModel } from '../support/tiny-speaker-model';
import { recordSpeaker, soundingSamples, useVirtualCard, VIRTUAL_MIC, VIRTUAL_SPEAKER } from '../support/virtual-card';
import { sleep, until } from '../support/wait';

/** Node-RED stopped by its service manager must be gone by then (systemd's default is 90 s; a user's patience is less). */
const EXIT_WITHIN_MS = 15_000;
/** A WAV file's header, with its two sizes: RIFF (at 4) and data (at 40). */
const WAV_HEADER = 44;
/** Tens of seconds on the tiny voice: the speaker is still playing whenever the test stops Node-RED. */
const LONG_TEXT = Array.from({ length: 80 }, (_, i) => `This is sentence ${i + 1} of a very long announcement.`).join(' ');
/** The shipped flow's inject of a typed question into llama-llm. */
const TYPED_QUESTION = 'b7e1a0c0d0e1001e';

/** Whether a process is still there (a zombie is as good as gone: it runs nothing). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** When each step of a case ended, in seconds from its start: what a failure tells beside its own message. */
function stepClock(): { done(step: string): void; toString(): string } {
  const start = performance.now();
  const ended: string[] = [];
  return {
    done: (step) => ended.push(`${step} ${((performance.now() - start) / 1000).toFixed(1)} s`),
    toString: () => ended.join(', ') || 'no step done',
  };
}

/**
 * The voice assistant's Node-RED (this package from dist/, as users install
 * it) stopped by a signal while a reply plays on the sound card and into a
 * WAV file: it exits promptly and cleanly, leaves no engine process behind,
 * and the WAV file is whole.
 */
describe('fault matrix: Node-RED stopped while the speaker plays (real Node-RED process, dist build, virtual sound card)', function () {
  // Above the sum of the waits below, so a slow step fails with its own message, not mocha's.
  this.timeout(200_000);
  useVirtualCard();
  const dir = mkdtempSync(join(tmpdir(), 'rv-fault-stop-'));
  const models = { asrDir: writeTinyAsrModel(dir), voice: writeTinyPiperVoice(dir), speakerModel: writeTinySpeakerModel(dir) };
  let red: SecuredNodeRed | undefined;

  afterEach(async () => {
    await red?.stop();
    red = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * The shipped flow on the virtual card, with a second speaker-out into a WAV file and an
   * inject of a long text into piper-tts; its typed question has a long answer.
   */
  function flowFor(wavPath: string): FlowNode[] {
    const shipped = shippedFlow(models, { device: VIRTUAL_MIC }, { device: VIRTUAL_SPEAKER });
    Object.assign(shipped.byType('llama-llm'), { maxTokens: 400, contextSize: 1024 });
    const flow = runtimeFlow(shipped.flow);
    const tts = flow.find((n) => n.type === 'piper-tts') as FlowNode;
    const z = tts.z;
    tts.wires?.[0].push('wav-speaker');
    tts.wires?.[1].push('wav-speaker');
    flow.push(
      { id: 'wav-speaker', type: 'speaker-out', z, version: 1, sink: 'wav', card: '', wavPath, wavRate: 16000, wires: [[], []] },
      { id: 'long-text', type: 'inject', z, props: [{ p: 'payload' }], payload: LONG_TEXT, payloadType: 'str', repeat: '', once: false, wires: [[tts.id]] },
    );
    return flow;
  }

  const cases = [
    { signal: 'SIGTERM', reply: 'a long announcement', inject: 'long-text', playedS: 3 },
    { signal: 'SIGINT', reply: 'a long announcement', inject: 'long-text', playedS: 3 },
    // Stopped at the reply's first words (half a second: the card, behind its own buffers, has played some too):
    // llama-llm is likely still generating, piper-tts still speaking.
    { signal: 'SIGTERM', reply: 'the answer to the typed question', inject: TYPED_QUESTION, playedS: 0.5 },
  ] as const;
  for (const { signal, reply, inject, playedS } of cases) {
    it(`${signal} while ${reply} plays: Node-RED exits with code 0 within ${EXIT_WITHIN_MS / 1000} s, no engine process is left, the WAV file is whole`, async () => {
      const wavPath = join(dir, `speaker-${signal}-${inject}.wav`);
      const steps = stepClock();
      red = await launchSecuredNodeRed({ admin: '*' }, { 'flows.json': JSON.stringify(flowFor(wavPath)) });
      const { child, log } = red.red;
      const auth = await red.login('admin');
      steps.done('Node-RED up');
      // The engines of voiceprint, asr and piper-tts run in child processes of Node-RED.
      await until(() => engineProcesses(child.pid).length >= 3, 60_000, () => `the engines to start (${steps})\n${log()}`);
      steps.done('engines up');
      const recorder = recordSpeaker();
      const res = await fetch(`${red.red.base}/inject/${inject}`, { method: 'POST', headers: auth, signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, 200, 'the inject fired');
      const wavBytes = () => (existsSync(wavPath) ? statSync(wavPath).size - WAV_HEADER : 0);
      // Playing means on the card too: behind its buffers, the card sounds some 0.4 s after the WAV file has the audio.
      const playing = () => wavBytes() > playedS * 16000 * 2 && soundingSamples(recorder.soFar()) > 0;
      await until(playing, 60_000, () => `the reply to play (${steps}; ${wavBytes()} bytes in the WAV file, ${soundingSamples(recorder.soFar())} sounding samples on the card)\n${log()}`);
      steps.done('reply playing');
      const engines = engineProcesses(child.pid);
      assert.ok(engines.length >= 3, `engine processes: ${engines}`);

      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
      const stoppedAt = performance.now();
      child.kill(signal);
      const exit = await Promise.race([exited, sleep(EXIT_WITHIN_MS + 5000).then(() => undefined)]);
      const tookMs = performance.now() - stoppedAt;
      const onCard = soundingSamples(await recorder.stop());
      steps.done('stopped');
      console.log(`      ${signal}: exit after ${tookMs.toFixed(0)} ms, ${JSON.stringify(exit)}; ${(wavBytes() / 32000).toFixed(1)} s in the WAV file, ${onCard} sounding samples on the card (${steps})`);
      assert.ok(onCard > 0, `the reply played on the card too (${onCard} sounding samples)`);
      assert.ok(exit, `Node-RED still runs ${((EXIT_WITHIN_MS + 5000) / 1000).toFixed(0)} s after ${signal}\n${red.red.log().slice(-3000)}`);
      assert.ok(tookMs < EXIT_WITHIN_MS, `Node-RED took ${tookMs.toFixed(0)} ms to exit`);
      assert.deepEqual(exit, { code: 0, signal: null }, `Node-RED's exit\n${red.red.log().slice(-3000)}`);

      // Its engine processes end with it (at most a moment later: they see their parent go).
      await until(() => !engines.some(alive), 2000, `the engine processes ${engines.filter(alive)} to end`).catch(() => undefined);
      assert.deepEqual(engines.filter(alive), [], 'engine processes left behind by Node-RED');

      const wav = readFileSync(wavPath);
      assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
      assert.equal(wav.toString('latin1', 8, 12), 'WAVE');
      assert.equal(wav.toString('latin1', 36, 40), 'data');
      assert.ok(wav.length > WAV_HEADER + playedS * 32000, `${wav.length - WAV_HEADER} bytes of audio`);
      assert.equal(wav.readUInt32LE(40), wav.length - WAV_HEADER, 'the data size in the header is the audio written');
      assert.equal(wav.readUInt32LE(4), wav.length - 8, 'the RIFF size in the header is the file');
    });
  }
});
