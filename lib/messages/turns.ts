import { randomUUID } from 'node:crypto';
import { cancels, namedTurn, type ControlPayload } from './control';

/** A fresh turn id: short, unique, readable in the debug sidebar. */
export function newTurnId(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

/**
 * Remembers which turns have been cancelled so that a node can drop anything
 * that still arrives for them: audio, LLM chunks and TTS requests of a stale
 * turn are never spoken. Bounded so that a long-running flow cannot grow it.
 */
export class TurnTracker {
  private readonly cancelled = new Set<string>();
  private currentTurn: string | undefined;

  constructor(private readonly memory = 256) {}

  /** The turn the node is working on, if any. */
  get current(): string | undefined {
    return this.currentTurn;
  }

  /**
   * Marks a turn as the one in progress. Returns false (and changes nothing)
   * when the turn was already cancelled: its late messages must be dropped.
   */
  begin(turnId: string): boolean {
    if (this.cancelled.has(turnId)) return false;
    this.currentTurn = turnId;
    return true;
  }

  /** Cancels one turn, or the current one when no id is given. Returns the id cancelled. */
  cancel(turnId: string | undefined = this.currentTurn): string | undefined {
    if (turnId === undefined) return undefined;
    this.cancelled.add(turnId);
    if (this.cancelled.size > this.memory) {
      // Sets iterate in insertion order: the first entry is the oldest.
      const oldest = this.cancelled.values().next().value as string;
      this.cancelled.delete(oldest);
    }
    if (this.currentTurn === turnId) this.currentTurn = undefined;
    return turnId;
  }

  /**
   * Applies a control event's cancel rule (cancels()) to the turns this node
   * holds and to its current turn, and remembers the turn an interrupt names
   * even if none of its messages has arrived yet. Returns the held or current
   * turns it cancelled, for the node to stop.
   */
  cancelBy(c: Pick<ControlPayload, 'type' | 'turnId'>, held: Iterable<string | undefined> = []): string[] {
    const match = cancels(c);
    const named = namedTurn(c);
    if (named !== undefined) this.cancel(named);
    const hit = new Set<string>();
    for (const id of [...held, this.currentTurn]) if (id !== undefined && match(id)) hit.add(id);
    for (const id of hit) this.cancel(id);
    return [...hit];
  }

  /** Ends the current turn normally (nothing is cancelled). */
  finish(turnId: string): void {
    if (this.currentTurn === turnId) this.currentTurn = undefined;
  }

  /** True when a message for this turn must be dropped. */
  isStale(turnId: string | undefined): boolean {
    return turnId !== undefined && this.cancelled.has(turnId);
  }
}
