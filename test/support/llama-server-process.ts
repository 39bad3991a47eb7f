import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { sleep } from './wait';

/**
 * A real llama.cpp llama-server for the fault tests: $LLAMA_SERVER_BIN, else
 * `llama-server` on the PATH. Undefined when there is none (the suite skips).
 */
export function llamaServerBin(): string | undefined {
  const fromEnv = process.env.LLAMA_SERVER_BIN;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const found = spawnSync('sh', ['-c', 'command -v llama-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * One llama-server process on 127.0.0.1, started again on the same port after
 * a kill (as a supervisor would), so a client keeps its URL.
 */
export class LlamaServerProcess {
  private child: ChildProcess | undefined;
  private port = 0;
  log = '';

  constructor(
    private readonly bin: string,
    private readonly args: string[],
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error('llama-server is not running');
    return this.child.pid;
  }

  /** Starts the server and resolves once /health answers 200 (the model is loaded). */
  async start(): Promise<this> {
    this.port ||= await freePort();
    const child = (this.child = spawn(this.bin, ['--host', '127.0.0.1', '--port', String(this.port), ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode}:\n${this.log.slice(-2000)}`);
      const healthy = await fetch(`${this.base}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (healthy) return this;
      await sleep(100);
    }
    throw new Error(`llama-server did not become healthy in 30 s:\n${this.log.slice(-2000)}`);
  }

  /** Sends a signal and, for one that ends the process, resolves once it has exited. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited;
  }

  async stop(): Promise<void> {
    await this.signal('SIGCONT');
    await this.signal('SIGKILL');
  }
}
