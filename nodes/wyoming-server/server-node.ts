import type { Node, NodeAPI, NodeStatus } from 'node-red';
import { Status } from '../../lib/nodered/status';
import type { WyomingServer } from '../../lib/wyoming/server';

/** A wyoming-server config node as wyoming-in and wyoming-out see it. */
export type WyomingServerNode = Node & { server: WyomingServer; started: Promise<number> };

/** The wyoming-server config node a wyoming-in or wyoming-out names; without one the node says so (status, error) and gets nothing. */
export function serverOf(RED: NodeAPI, node: Node, id: string): WyomingServerNode | undefined {
  const server = (RED.nodes.getNode(id) as WyomingServerNode | null) ?? undefined;
  if (!server) {
    node.status(Status.failed('no server'));
    node.error(`${node.type} needs a wyoming-server: pick or add one in its settings`);
  }
  return server;
}

/** Shows the server's port, then how many clients are connected; returns the function that stops following. */
export function followServer(server: WyomingServerNode, show: (s: NodeStatus) => void, label: string): () => void {
  const idle = () => Status.ready(`${label} :${server.server.port}`);
  show(Status.waiting('starting'));
  void server.started.then(() => show(idle()), () => undefined);
  const onClients = (n: number) => show(n ? Status.busy(`${n} client${n === 1 ? '' : 's'}`) : idle());
  server.server.on('clients', onClients);
  return () => server.server.off('clients', onClients);
}
