import type { Node, NodeAPI } from 'node-red';
import { onClose, onInput } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { followServer, serverOf } from '../wyoming-server/server-node';
import { MIGRATIONS, type WyomingOutConfig } from './config';

export = function register(RED: NodeAPI): void {
  function WyomingOutNode(this: Node, raw: WyomingOutConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const server = serverOf(RED, node, config.server);
    if (!server) return;
    const unfollow = followServer(server, (status) => node.status(status), 'out');
    // What the flow made goes to the client whose request it answers; a message of no open request is dropped.
    onInput(node, (msg) => {
      server.server.answer(msg as unknown as Record<string, unknown>);
    });
    onClose(node, unfollow);
  }

  RED.nodes.registerType('wyoming-out', WyomingOutNode as never);
};
