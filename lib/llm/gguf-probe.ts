import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { childExecArgv } from '../child-module';
import { damagedFileHint } from '../models/damaged-file';
import { LlmEngineError } from './engine';

const PROBE_MAIN = join(__dirname, `gguf-probe-main${extname(__filename)}`);
/** What the probe exits with when node-llama-cpp refused the file with an ordinary error. */
const REFUSED = 3;
/** A large model on a slow disk loads for minutes; past this the probe gives no verdict. */
const PROBE_TIMEOUT_MS = 5 * 60_000;
const STDERR_TAIL = 4096;

/** Verdicts per file version (path, size, modification time), for the life of the process. */
const verdicts = new Map<string, Promise<void>>();

/**
 * A GGUF can pass node-llama-cpp's checks and still trip a GGML_ASSERT in
 * llama.cpp, which aborts the whole process: Node-RED with every flow
 * (measured with node-llama-cpp 3: an attention head count, a block count or
 * a feed-forward length of 0 abort at load, a NaN norm epsilon at the first
 * token). So before a model is loaded into Node-RED's process, a child loads
 * it and generates one token; an abort there rejects with MODEL_BAD and the
 * assertion llama.cpp printed. Costs one extra load per file version (the
 * file's pages are then cached for the real load).
 */
export function probeGguf(modelPath: string, threads: number): Promise<void> {
  const { size, mtimeMs } = statSync(modelPath);
  const key = `${modelPath}\0${size}\0${mtimeMs}`;
  let verdict = verdicts.get(key);
  if (!verdict) verdicts.set(key, (verdict = runProbe(modelPath, threads)));
  return verdict;
}

function runProbe(modelPath: string, threads: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childExecArgv(PROBE_MAIN), PROBE_MAIN, modelPath, String(threads)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-STDERR_TAIL)));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    // Could not even start a probe: no verdict, the real load goes ahead.
    child.on('error', () => resolve());
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || code === REFUSED || signal === 'SIGKILL') return resolve();
      const assertion = /GGML_ASSERT\(.*\) failed/.exec(stderr)?.[0] ?? stderr.trim().split('\n').at(-1) ?? `exit ${signal ?? code}`;
      reject(new LlmEngineError(`llama.cpp aborts on ${modelPath} (${assertion}): the file is damaged or not a model llama.cpp supports: ${damagedFileHint(modelPath)}`, 'MODEL_BAD'));
    });
  });
}
