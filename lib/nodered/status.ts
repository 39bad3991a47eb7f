import type { Node, NodeStatus } from 'node-red';

/** Node-RED's style guide asks for status text under 20 characters. */
export const STATUS_MAX = 19;

export function shortText(text: string): string {
  return text.length <= STATUS_MAX ? text : `${text.slice(0, STATUS_MAX - 1)}…`;
}

/**
 * The one status vocabulary every node of the package uses, so that a user
 * reads the same colour the same way everywhere:
 * grey ring idle, blue dot busy, green dot ready, yellow ring waiting, red ring failed.
 */
export const Status = {
  idle: (text = 'idle'): NodeStatus => ({ fill: 'grey', shape: 'ring', text: shortText(text) }),
  busy: (text: string): NodeStatus => ({ fill: 'blue', shape: 'dot', text: shortText(text) }),
  ready: (text = 'ready'): NodeStatus => ({ fill: 'green', shape: 'dot', text: shortText(text) }),
  waiting: (text: string): NodeStatus => ({ fill: 'yellow', shape: 'ring', text: shortText(text) }),
  failed: (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text: shortText(text) }),
  clear: (): NodeStatus => ({}),
};

export type StatusSink = Pick<Node, 'status'>;
