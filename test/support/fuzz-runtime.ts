import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import helper from 'node-red-node-test-helper';
import { show, type Msg } from './fuzz-messages';
import { until } from './wait';

/** Where each input message's number travels (outputs copy it, Catch and Complete clone it). */
export const MARK = '_fuzz';

/**
 * A flow around the node under test: each output into a helper node
 * (out0, out1, ...), a Catch and a Complete node scoped to it. Node-RED
 * settles every input message exactly once: done() reaches Complete,
 * done(err) reaches Catch (node.error(err, msg)).
 */
export function fuzzFlow(node: Msg & { id: string; type: string }, outputs: number, extra: Msg[] = []): never {
  const outs = Array.from({ length: outputs }, (_, i) => `out${i}`);
  return [
    { id: 'f1', type: 'tab' },
    { z: 'f1', name: 'under test', ...node, wires: outs.map((o) => [o]) },
    ...outs.map((id) => ({ id, z: 'f1', type: 'helper' })),
    { id: 'catcher', z: 'f1', type: 'catch', scope: [node.id], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
    { id: 'completer', z: 'f1', type: 'complete', scope: [node.id], uncaught: false, wires: [['completed']] },
    { id: 'completed', z: 'f1', type: 'helper' },
    ...extra,
  ] as never;
}

export interface Sent {
  /** Traffic clock when the node sent it: compare with Traffic.processedAt. */
  at: number;
  port: number;
  msg: Msg;
}

interface Settled {
  error?: { message: string; code?: unknown };
}

/**
 * Drives one node of a loaded fuzzFlow and records, on one clock, when each
 * input finished its synchronous handling and when each output left, so a
 * property can ask "did this leave after that cancel was taken?".
 */
export class Traffic {
  private clock = 0;
  private count = 0;
  readonly inputs: Msg[] = [];
  readonly processedAt: number[] = [];
  readonly sent: Sent[] = [];
  readonly settled = new Map<number, Settled[]>();
  private readonly node: { receive(msg: Msg): void; send: (msg: unknown) => void };

  constructor(readonly nodeId: string) {
    this.node = helper.getNode(nodeId) as never;
    const send = this.node.send.bind(this.node);
    this.node.send = (out: unknown) => {
      const ports = Array.isArray(out) ? out : [out];
      ports.forEach((m, port) => {
        for (const one of Array.isArray(m) ? m : [m]) if (one) this.sent.push({ at: ++this.clock, port, msg: one as Msg });
      });
      send(out);
    };
    const note = (id: string, pick: (m: Msg) => Settled) =>
      (helper.getNode(id) as unknown as EventEmitter).on('input', (m: Msg) => {
        const n = m[MARK];
        if (typeof n !== 'number') return;
        const list = this.settled.get(n) ?? [];
        list.push(pick(m));
        this.settled.set(n, list);
      });
    note('caught', (m) => ({ error: m.error as Settled['error'] }));
    note('completed', () => ({}));
  }

  /** Hands one message to the node; returns its number. */
  receive(msg: Msg): number {
    const n = this.count++;
    const marked = { ...msg, [MARK]: n };
    this.inputs[n] = marked;
    this.clock++;
    this.node.receive(marked);
    this.processedAt[n] = ++this.clock;
    return n;
  }

  /** The numbers received so far from `from` on. */
  since(from: number): number[] {
    return Array.from({ length: this.count - from }, (_, i) => from + i);
  }

  get received(): number {
    return this.count;
  }

  /** Waits until each message has reached Catch or Complete (Node-RED settles it once, asynchronously). */
  async allSettled(ns: number[], ms: number): Promise<void> {
    await until(() => ns.every((n) => this.settled.has(n)), ms, `${ns.filter((n) => !this.settled.has(n)).length} messages to settle`).catch(() => {
      const open = ns.filter((n) => !this.settled.has(n)).map((n) => show(this.inputs[n]));
      throw new Error(`never settled (no done, no error) within ${ms} ms: ${open.join('; ')}`);
    });
  }

  /**
   * Each message settled once; refused (Catch, with its own msg and an error
   * code) exactly when `expectRefused` says the contract refuses it.
   */
  assertVerdicts(ns: number[], expectRefused: (msg: Msg) => string | undefined): void {
    for (const n of ns) {
      const got = this.settled.get(n) ?? [];
      const msg = this.inputs[n];
      assert.equal(got.length, 1, `settled ${got.length} times: ${show(msg)}`);
      const why = expectRefused(msg);
      const err = got[0].error;
      if (why === undefined) assert.equal(err, undefined, `refused (${err?.message}) though the contract takes it: ${show(msg)}`);
      else {
        assert.ok(err, `taken though the contract refuses it (${why}): ${show(msg)}`);
        assert.ok(typeof err.code === 'string' && err.code, `refused without an error code (${err.message}): ${show(msg)}`);
      }
    }
  }
}

/** Waits until a node's status turns green (its engine loaded): runs before that would only test the loading queue. */
export async function ready(nodeId: string, ms: number): Promise<void> {
  const status = helper.getNode(nodeId).status as unknown as { lastCall?: { args: [{ fill?: string }] } };
  await until(() => status.lastCall?.args[0]?.fill === 'green', ms, `${nodeId} to be ready`);
}
