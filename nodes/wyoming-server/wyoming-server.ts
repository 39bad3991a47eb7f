import type { NodeAPI } from 'node-red';
import { SERVICES } from '../../lib/wyoming/info';
import { SERVER_DEFAULTS, WyomingServer } from '../../lib/wyoming/server';
import { onClose } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { MIGRATIONS, type WyomingServerConfig } from './config';
import type { WyomingServerNode } from './server-node';

export = function register(RED: NodeAPI): void {
  function WyomingServerConfigNode(this: WyomingServerNode, raw: WyomingServerConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    // Home Assistant offers a program only for the languages it names: never none.
    const languages = config.languages.split(',').map((l) => l.trim()).filter(Boolean);
    const host = config.host.trim() || '127.0.0.1';
    const server = new WyomingServer({
      ...SERVER_DEFAULTS,
      port: config.port,
      host,
      services: SERVICES.filter((s) => config[s]),
      agentName: config.agentName.trim() || SERVER_DEFAULTS.agentName,
      room: config.room.trim() || SERVER_DEFAULTS.room,
      languages: languages.length ? languages : SERVER_DEFAULTS.languages,
      zeroconf: config.zeroconf,
      answerTimeoutMs: config.timeout * 1000,
    });
    server.on('warning', (text: string) => node.warn(text));
    if (config.zeroconf && /^(127\.|::1$|localhost$)/.test(host)) {
      node.warn(`announced by Zeroconf but listening on ${host} only: Home Assistant on another machine cannot connect; set the bind address to 0.0.0.0`);
    }
    node.server = server;
    node.started = server.start().then(
      (port) => {
        node.log(`Wyoming server on ${host}:${port}${config.zeroconf ? ', announced by Zeroconf' : ''}`);
        return port;
      },
      (err: NodeJS.ErrnoException) => {
        const reason = err.code === 'EADDRINUSE' ? `port ${config.port} is in use: choose another port in the wyoming-server node` : err.message;
        node.error(`Wyoming server on ${host}:${config.port}: ${reason}`);
        throw Object.assign(new Error(reason), { statusText: err.code === 'EADDRINUSE' ? 'port in use' : 'server failed' });
      },
    );
    node.started.catch(() => undefined); // reported above; the wyoming-in nodes show it
    onClose(node, () => server.close());
  }

  RED.nodes.registerType('wyoming-server', WyomingServerConfigNode as never);
};
