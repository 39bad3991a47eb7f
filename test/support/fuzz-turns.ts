import type { ControlType } from '../../lib/messages/control';
import { validControl } from './fuzz-messages';
import type { Traffic } from './fuzz-runtime';
import { sleep } from './wait';

/**
 * The fuzz suites' model of docs/messages.md's turn rule: "a message of a
 * turn that has been cancelled (by interrupt, flush or a barge-in
 * speech-start) is dropped, never spoken". It knows which turns are open
 * (begun, not yet finished) and when, on a Traffic clock, each turn was
 * cancelled; anything of that turn that leaves later is stale.
 */
export class TurnLedger {
  private readonly open = new Set<string>();
  private readonly cancelledAt = new Map<string, number>();

  /** A turn's message was taken: the turn is open (unless it was cancelled: then it stays dead). */
  begun(turnId: string): void {
    if (!this.cancelledAt.has(turnId)) this.open.add(turnId);
  }

  /** The turn ended normally: a later cancel-all does not concern it. */
  finished(turnId: string): void {
    this.open.delete(turnId);
  }

  isCancelled(turnId: string): boolean {
    return this.cancelledAt.has(turnId);
  }

  /** A valid control event taken at clock `at`: interrupt / flush name a turn or "*", speech-start cancels every other open turn. */
  control(type: ControlType, turnId: string, at: number): void {
    if (type === 'speech-start') this.cancelOpen(at, turnId);
    else if (type === 'interrupt' || type === 'flush') {
      if (turnId === '*') this.cancelOpen(at);
      else this.cancel(turnId, at);
    }
  }

  /** Every open turn (but `except`) is cancelled at `at`. */
  cancelOpen(at: number, except?: string): void {
    for (const t of [...this.open]) if (t !== except) this.cancel(t, at);
  }

  cancel(turnId: string, at: number): void {
    if (!this.cancelledAt.has(turnId)) this.cancelledAt.set(turnId, at);
    this.open.delete(turnId);
  }

  /** True when something of `turnId` leaving at clock `at` is stale. */
  stale(turnId: string | undefined, at: number): boolean {
    if (turnId === undefined) return false;
    const cut = this.cancelledAt.get(turnId);
    return cut !== undefined && at > cut;
  }
}

/**
 * Each property run's turn ids are its own ("r3-t-a" for "t-a"), so that a
 * cancel in one run never concerns the next. `scope` rewrites a generated
 * message so: its turn id and its control event's.
 */
export function runScope(ids: readonly string[], run: number): { prefix: string; scope(raw: Record<string, unknown>): Record<string, unknown> } {
  const prefix = `r${run}-`;
  const own = (id: unknown) => (typeof id === 'string' && ids.includes(id) ? prefix + id : id);
  return {
    prefix,
    scope(raw) {
      const control = raw.control && typeof raw.control === 'object' ? { control: { ...(raw.control as Record<string, unknown>), turnId: own((raw.control as Record<string, unknown>).turnId) } } : {};
      // "*" is a wildcard only in a control event; as the turn id of a text it is a turn of this run like any other.
      return { ...raw, turnId: raw.control == null && raw.turnId === '*' ? `${prefix}star` : own(raw.turnId), ...control };
    },
  };
}

/** What a turn suite learns of one message it played: when its handling ended, its valid control event, its turn. */
export interface Played {
  msg: Record<string, unknown>;
  at: number;
  control: { type: ControlType; turnId: string } | undefined;
  turn: string | undefined;
}

/**
 * Plays one generated sequence into the node: a `{ waitMs }` step pauses
 * (a slow LLM between two chunks), any other is scoped to the run and
 * received; `before` runs ahead of each message, `note` after each one the
 * node takes (not refused), for the suite to keep its TurnLedger.
 */
export async function playSteps(
  traffic: Traffic,
  steps: Record<string, unknown>[],
  scope: (raw: Record<string, unknown>) => Record<string, unknown>,
  refused: (msg: Record<string, unknown>) => string | undefined,
  note: (played: Played) => void,
  before: () => void = () => undefined,
): Promise<void> {
  for (const raw of steps) {
    if (typeof raw.waitMs === 'number') {
      await sleep(raw.waitMs);
      continue;
    }
    const msg = scope(raw);
    before();
    const n = traffic.receive(msg);
    if (refused(msg) !== undefined) continue;
    note({ msg, at: traffic.processedAt[n], control: validControl(msg), turn: typeof msg.turnId === 'string' && msg.turnId ? msg.turnId : undefined });
  }
}
