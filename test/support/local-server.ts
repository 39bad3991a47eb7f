import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server for tests, on a free port of 127.0.0.1 only (never
 * another address). Subclasses build the server; start and stop are shared.
 */
export abstract class LocalServer {
  private server: Server | undefined;
  base = '';

  protected abstract create(): Server;

  async start(): Promise<this> {
    const server = (this.server = this.create());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
