import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readWavMono } from '../../lib/audio/wav';
import { MAKE_TEST_VENV, testVenvPythonWith } from './test-venv';

const run = promisify(execFile);
const SCRIPT = join(__dirname, 'piper_reference.py');

/** What the reference is, for skip messages. */
export const OFFICIAL_PIPER = 'the official Piper (piper-tts 1.8.0 in the test virtualenv)';

export interface OfficialSentence {
  phonemes: string;
  ids: number[];
  samples: number;
}
export interface OfficialText {
  text: string;
  sentences: OfficialSentence[];
  /** The sentences' audio back to back, raw model output (not normalised), at the voice's rate. */
  audio: Float32Array;
  sampleRate: number;
}

/** The test virtualenv's python when the official Piper is installed in it, else undefined. */
export function officialPiperPython(): string | undefined {
  return testVenvPythonWith(['piper']);
}

/**
 * The official Piper speaking each text with a voice, deterministically
 * (noise_scale = noise_w = 0): the phoneme ids it feeds the model per sentence
 * and its audio. `warnings` is what Piper logged (e.g. missing phonemes).
 */
export async function officialPiper(voicePath: string, texts: string[], outDir: string): Promise<{ texts: OfficialText[]; warnings: string }> {
  const python = officialPiperPython();
  if (!python) throw new Error(`${OFFICIAL_PIPER} is missing; run: ${MAKE_TEST_VENV}`);
  const child = run(python, [SCRIPT, voicePath, outDir], { maxBuffer: 64 << 20 });
  child.child.stdin!.end(JSON.stringify(texts));
  const { stdout, stderr } = await child;
  const result = JSON.parse(stdout) as { texts: (Omit<OfficialText, 'audio' | 'sampleRate'> & { wav: string })[] };
  const out = await Promise.all(
    result.texts.map(async ({ wav, ...t }) => {
      const { samples, sampleRate } = await readWavMono(wav);
      return { ...t, audio: samples, sampleRate };
    }),
  );
  return { texts: out, warnings: stderr };
}

/**
 * The official Piper speaking `text` `runs` times (after a warm-up) with its default synthesis
 * settings: per run, synthesize() → its first sentence's audio (ms) and the real-time factor.
 * `threads` sets onnxruntime's intra-op threads; without it, Piper's default (0: onnxruntime's).
 */
export async function officialPiperTiming(voicePath: string, text: string, runs: number, threads?: number): Promise<{ threads: number; firstAudioMs: number[]; rtf: number[] }> {
  const python = officialPiperPython();
  if (!python) throw new Error(`${OFFICIAL_PIPER} is missing; run: ${MAKE_TEST_VENV}`);
  const child = run(python, [SCRIPT, '--time', voicePath, String(runs), ...(threads ? [String(threads)] : [])]);
  child.child.stdin!.end(text);
  const { stdout } = await child;
  const result = JSON.parse(stdout) as { threads: number; first_audio_ms: number[]; rtf: number[] };
  return { threads: result.threads, firstAudioMs: result.first_audio_ms, rtf: result.rtf };
}
