import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './paths';

/** A port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Node-RED running in a child process, with everything it printed so far. */
export interface NodeRedProcess {
  child: ChildProcess;
  base: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Runs `node <args>` (Node-RED itself, or a script that starts it) that will
 * listen on `port`, and waits until its admin API answers.
 */
export async function launchNodeRed(args: string[], port: number, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<NodeRedProcess> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const red: NodeRedProcess = {
    child,
    base: `http://127.0.0.1:${port}`,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  await waitForAdminApi(red);
  return red;
}

/**
 * Up means the runtime has loaded its flows: the editor's /settings answers
 * first, while /flows still gives an error object (seen in a fresh-clone CI).
 * 401 counts as up: Node-RED asks for a login.
 */
async function waitForAdminApi(red: NodeRedProcess): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (red.child.exitCode !== null) throw new Error(`Node-RED exited with ${red.child.exitCode}:\n${red.log()}`);
    try {
      const res = await fetch(`${red.base}/flows`);
      if (res.status === 401 || (res.ok && Array.isArray(await res.json()))) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Node-RED did not start within 90 s:\n${red.log()}`);
}

/**
 * Node-RED 4.1 of the checkout with this package's nodes from the checkout
 * (nodesDir), in `userDir` with these flows, on 127.0.0.1: what the editor
 * tests open in Chromium.
 */
export async function launchCheckoutNodeRed(userDir: string, flows: unknown[], env: NodeJS.ProcessEnv = process.env): Promise<NodeRedProcess> {
  const port = await freePort();
  const settings = { uiHost: '127.0.0.1', uiPort: port, flowFile: 'flows.json', nodesDir: [ROOT], editorTheme: { tours: false }, telemetry: { enabled: false } };
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
  return launchNodeRed([join(ROOT, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--port', String(port)], port, { env });
}
