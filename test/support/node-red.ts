import type { EventEmitter } from 'node:events';
import helper from 'node-red-node-test-helper';
import { bufferToInt16 } from '../../lib/audio/pcm';

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

/** The samples of audio messages (frames with a PCM payload), one after another; other messages are skipped. */
export function samplesOf(frames: Array<{ payload?: unknown }>): Int16Array {
  return Int16Array.from(frames.filter((f) => Buffer.isBuffer(f.payload)).flatMap((f) => Array.from(bufferToInt16(f.payload as Buffer))));
}

type NodeStatus = { fill?: string; shape?: string; text?: string };

/**
 * Every status a node of the loaded flow showed, in order. The test helper records every
 * node.status call in one spy shared by all nodes: the node's own are picked out.
 */
export function statusesOf(id: string): NodeStatus[] {
  const spy = helper.getNode(id).status as unknown as { args: [NodeStatus][]; thisValues: { id: string }[] };
  return spy.args.filter((_, i) => spy.thisValues[i]?.id === id).map((args) => args[0]);
}

/** The status a node of the loaded flow showed last ({} before its first). */
export function lastStatus(id: string): NodeStatus {
  return statusesOf(id).at(-1) ?? {};
}
