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

/** The status a node of the loaded flow showed last (the test helper records every node.status call). */
export function lastStatus(id: string): { fill?: string; shape?: string; text?: string } {
  return (helper.getNode(id).status as unknown as { lastCall: { args: [{ fill?: string; shape?: string; text?: string }] } }).lastCall.args[0];
}
