import type { EventEmitter } from 'node:events';
import helper from 'node-red-node-test-helper';

/** Resolves with the next message a helper node (or any node) receives. */
export function nextMessage<T = Record<string, unknown>>(id: string): Promise<T> {
  const node = helper.getNode(id) as unknown as EventEmitter;
  return new Promise((resolve) => node.once('input', resolve));
}

/** Collects every message a helper node receives, in order. */
export function collect<T = Record<string, unknown>>(id: string): T[] {
  const got: T[] = [];
  (helper.getNode(id) as unknown as EventEmitter).on('input', (m: T) => got.push(m));
  return got;
}
