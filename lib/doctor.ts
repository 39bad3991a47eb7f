import { availableBackends, loadBackend } from './audio-io/load-backend';
import { BACKENDS } from './audio-io/backend';
import { BUNDLES, CATALOG } from './models/catalog';
import { isInstalled, modelPath, modelsDir } from './models/models-dir';
import { isHealthy, verifyModel } from './models/verify';

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
      checks.push({ area: 'models', what: name, ok: false, detail: `not installed in ${modelsDir()}: run "npx realtime-voice models pull default" (offline: "models pull" prints the URLs and paths)` });
      continue;
    }
    const reports = await verifyModel(entry, modelPath(entry));
    const bad = reports.filter((r) => r.state !== 'ok' && r.state !== 'unchecked-digest');
    checks.push({ area: 'models', what: name, ok: isHealthy(reports), detail: bad.length ? bad.map((r) => `${r.path}: ${r.state}`).join(', ') : 'installed and verified' });
  }
  return checks;
}

function audioChecks(): Check[] {
  const loaded = availableBackends();
  return BACKENDS.map((name): Check => {
    if (!loaded.includes(name)) {
      return { area: 'audio', what: `backend ${name}`, ok: false, optional: name !== 'audify', detail: name === 'audify' ? 'does not load: reinstall (needs cmake, libasound2-dev, libpulse-dev to compile)' : 'not installed (optional): npm install naudiodon' };
    }
    const devices = loadBackend(name).devices();
    const inputs = devices.filter((d) => d.inputChannels > 0).map((d) => d.name);
    const outputs = devices.filter((d) => d.outputChannels > 0).map((d) => d.name);
    const ok = inputs.length > 0 && outputs.length > 0;
    return { area: 'audio', what: `backend ${name}`, ok, optional: name !== 'audify', detail: ok ? `inputs: ${inputs.join(', ')}; outputs: ${outputs.join(', ')}` : `no ${inputs.length ? 'output' : 'input'} device found (is the sound server reachable? PULSE_SERVER=${process.env.PULSE_SERVER ?? 'unset'})` };
  });
}

async function engineChecks(): Promise<Check[]> {
  const engines: Array<[string, () => Promise<unknown>]> = [
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- sherpa-onnx-node ships no types
    ['sherpa-onnx (VAD, ASR, voiceprint)', async () => require('sherpa-onnx-node')],
    ['onnxruntime (Piper TTS)', () => import('onnxruntime-node')],
    ['node-llama-cpp (embedded LLM)', async () => (await import('node-llama-cpp')).getLlama({ gpu: false, build: 'never' })],
  ];
  const checks: Check[] = [];
  for (const [what, load] of engines) {
    try {
      await load();
      checks.push({ area: 'engines', what, ok: true, detail: 'loads' });
    } catch (err) {
      checks.push({ area: 'engines', what, ok: false, detail: (err as Error).message.split('\n')[0] });
    }
  }
  return checks;
}

async function serverCheck(url: string): Promise<Check> {
  try {
    const res = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(3000) });
    return { area: 'llama-server', what: url, ok: res.ok, detail: res.ok ? 'reachable, healthy' : `answers ${res.status}` };
  } catch (err) {
    return { area: 'llama-server', what: url, ok: false, detail: `unreachable: ${(err as Error).message}` };
  }
}

/** Every check; llama-server only when LLAMA_SERVER_URL names one (the embedded engine needs none). */
export async function runChecks(env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks = [...(await modelChecks()), ...audioChecks(), ...(await engineChecks())];
  if (env.LLAMA_SERVER_URL) checks.push(await serverCheck(env.LLAMA_SERVER_URL));
  return checks;
}

/** Prints the checks; returns the exit code (1 when a required check failed). */
export function report(checks: Check[], out: (line: string) => void = console.log): number {
  for (const c of checks) out(`${c.ok ? '✓' : c.optional ? '–' : '✗'} ${c.area.padEnd(12)} ${c.what}: ${c.detail}`);
  const failed = checks.filter((c) => !c.ok && !c.optional);
  out(failed.length ? `\n${failed.length} problem(s) found.` : '\nEverything needed is in place.');
  return failed.length ? 1 : 0;
}
