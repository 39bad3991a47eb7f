import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testVenvPythonWith } from './test-venv';

/** The peer our server is compared with: wyoming-piper 2.5.2 (test virtualenv) serving the same voice. */
export const WYOMING_PIPER = 'wyoming-piper 2.5.2';

export function wyomingPiperPython(): string | undefined {
  return testVenvPythonWith(['wyoming_piper', 'wyoming']);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts wyoming-piper on 127.0.0.1 with one catalog voice folder (voice.onnx +
 * voice.onnx.json) under the name wyoming-piper knows it by (e.g.
 * en_US-joe-medium), offline. Resolves once it says Ready.
 */
export async function startWyomingPiper(python: string, voiceFolder: string, voiceName: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const data = mkdtempSync(join(tmpdir(), 'rv-wyoming-piper-'));
  symlinkSync(join(voiceFolder, 'voice.onnx'), join(data, `${voiceName}.onnx`));
  symlinkSync(join(voiceFolder, 'voice.onnx.json'), join(data, `${voiceName}.onnx.json`));
  const port = await freePort();
  const child = spawn(python, ['-m', 'wyoming_piper', '--uri', `tcp://127.0.0.1:${port}`, '--voice', voiceName, '--data-dir', data, '--local-files-only'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${WYOMING_PIPER} did not start within 60 s:\n${log}`)), 60_000);
    child.stderr.on('data', (b: Buffer) => {
      log += b.toString();
      if (log.includes('Ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${WYOMING_PIPER} exited with ${code}:\n${log}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill();
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
  };
  return { port, stop };
}
