import type { Node, NodeAPI } from 'node-red';
import { onClose, shortReason } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { followServer, serverOf } from '../wyoming-server/server-node';
import { MIGRATIONS, type WyomingInConfig } from './config';

export = function register(RED: NodeAPI): void {
  function WyomingInNode(this: Node, raw: WyomingInConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const server = serverOf(RED, node, config.server);
    if (!server) return;
    // Home Assistant's requests of this node's service, as messages of their own turn.
    const stop = server.server.listen(config.service, (msg) => node.send(msg as never));
    const unfollow = followServer(server, (status) => node.status(status), config.service);
    server.started.catch((err: Error) => node.status(Status.failed(shortReason(err))));
    onClose(node, () => {
      stop();
      unfollow();
    });
  }

  RED.nodes.registerType('wyoming-in', WyomingInNode as never);
};
