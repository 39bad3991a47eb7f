import { availableBackends, loadBackend } from './audio-io/load-backend';
import { BACKENDS, type AudioDevice, type BackendName } from './audio-io/backend';
import { BUNDLES, CATALOG } from './models/catalog';
import { pullCommand } from './models/command';
import { isInstalled, modelPath, modelsDir } from './models/models-dir';
import { isHealthy, verifyModel } from './models/verify';
import { nativeBinaries } from './native-binaries';
import { flowFiles, llamaServerUrls, userDirs } from './nodered/flow-files';

/** One line of `npm run doctor`: what was checked, whether it is fine, and what to do if not. */
export interface Check {
  area: 'models' | 'audio' | 'engines' | 'llama-server';
  what: string;
  ok: boolean;
  /** A missing optional part is reported but does not fail the doctor. */
  optional?: boolean;
  detail: string;
}

async function modelChecks(): Promise<Check[]> {
  const checks: Check[] = [];
  for (const name of BUNDLES.default) {
    const entry = CATALOG.find((e) => e.name === name);
    if (!entry) continue;
    if (!isInstalled(entry)) {
      checks.push({ area: 'models', what: name, ok: false, detail: `not installed in ${modelsDir()}: run "${pullCommand('default')}" (offline, it prints every URL and the path to put it at)` });
      continue;
    }
    const reports = await verifyModel(entry, modelPath(entry));
    const bad = reports.filter((r) => r.state !== 'ok' && r.state !== 'unchecked-digest');
    const fix = `: run "${pullCommand(name)}" (pull replaces what fails its check)`;
    checks.push({ area: 'models', what: name, ok: isHealthy(reports), detail: bad.length ? bad.map((r) => `${r.path}: ${r.state}`).join(', ') + fix : 'installed and verified' });
  }
  return checks;
}

/** Devices are listed in child processes (AudioBackend.probe): the native libraries' noise stays out of the report. */
async function audioChecks(): Promise<Check[]> {
  const loaded = availableBackends();
  const checks: Check[] = [];
  for (const name of BACKENDS) checks.push(await audioCheck(name, loaded.includes(name)));
  return checks;
}

async function audioCheck(name: BackendName, loads: boolean): Promise<Check> {
  const check = { area: 'audio', what: `backend ${name}`, optional: name !== 'audify' } as const;
  if (!loads) {
    const audify = nativeBinaries().find((b) => b.module === 'audify');
    return { ...check, ok: false, detail: name === 'audify' ? `does not load: ${audify?.ok === false ? audify.detail : 'reinstall (needs cmake, libasound2-dev, libpulse-dev to compile)'}` : 'not installed (optional): npm install naudiodon' };
  }
  let devices: AudioDevice[];
  try {
    devices = await loadBackend(name).probe();
  } catch (err) {
    return { ...check, ok: false, detail: (err as Error).message };
  }
  const inputs = devices.filter((d) => d.inputChannels > 0).map((d) => d.name);
  const outputs = devices.filter((d) => d.outputChannels > 0).map((d) => d.name);
  const ok = inputs.length > 0 && outputs.length > 0;
  return { ...check, ok, detail: ok ? `inputs: ${inputs.join(', ')}; outputs: ${outputs.join(', ')}` : `no ${inputs.length ? 'output' : 'input'} device found (is the sound server reachable? PULSE_SERVER=${process.env.PULSE_SERVER ?? 'unset'})` };
}

async function engineChecks(): Promise<Check[]> {
  const engines: Array<[string, string, () => Promise<unknown>]> = [
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- sherpa-onnx-node ships no types
    ['sherpa-onnx (VAD, ASR, voiceprint)', 'sherpa-onnx-node', async () => require('sherpa-onnx-node')],
    ['onnxruntime (Piper TTS)', 'onnxruntime-node', () => import('onnxruntime-node')],
    ['node-llama-cpp (embedded LLM)', 'node-llama-cpp', async () => (await import('node-llama-cpp')).getLlama({ gpu: false, build: 'never' })],
  ];
  const binaries = nativeBinaries();
  const checks: Check[] = [];
  for (const [what, module, load] of engines) {
    try {
      await load();
      checks.push({ area: 'engines', what, ok: true, detail: 'loads' });
    } catch (err) {
      // Say plainly what is missing (no build for this machine, a platform package npm skipped), not the loader's words.
      const binary = binaries.find((b) => b.module === module);
      checks.push({ area: 'engines', what, ok: false, detail: binary && !binary.ok ? binary.detail : (err as Error).message.split('\n')[0] });
    }
  }
  return checks;
}

async function serverCheck(url: string, from: string): Promise<Check> {
  const what = `${url} (from ${from})`;
  try {
    const res = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(3000) });
    return { area: 'llama-server', what, ok: res.ok, detail: res.ok ? 'reachable, healthy' : `answers ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { area: 'llama-server', what, ok: false, detail: `unreachable (${cause ?? (err as Error).message}): start llama-server, or fix the URL in the llama-llm node` };
  }
}

/**
 * Every check. llama-server is checked when something names one: $LLAMA_SERVER_URL,
 * or a llama-llm node in a flow of the user directories (the embedded engine needs none).
 */
export async function runChecks(env: NodeJS.ProcessEnv = process.env, flows: string[] = flowFiles(userDirs(env))): Promise<Check[]> {
  const checks = [...(await modelChecks()), ...(await audioChecks()), ...(await engineChecks())];
  const servers = new Map<string, string>();
  if (env.LLAMA_SERVER_URL) servers.set(env.LLAMA_SERVER_URL, '$LLAMA_SERVER_URL');
  for (const { url, file } of llamaServerUrls(flows)) if (!servers.has(url)) servers.set(url, file);
  for (const [url, from] of servers) checks.push(await serverCheck(url, from));
  return checks;
}

/** Prints the checks; returns the exit code (1 when a required check failed). */
export function report(checks: Check[], out: (line: string) => void = console.log): number {
  for (const c of checks) out(`${c.ok ? '✓' : c.optional ? '–' : '✗'} ${c.area.padEnd(12)} ${c.what}: ${c.detail}`);
  const failed = checks.filter((c) => !c.ok && !c.optional);
  out(failed.length ? `\n${failed.length} problem(s) found.` : '\nEverything needed is in place.');
  return failed.length ? 1 : 0;
}
