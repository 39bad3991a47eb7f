import { randomUUID } from 'node:crypto';
import { cancels, namedTurn, type CancelEvent } from './control';

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
  /** The room of each turn begun in one (bounded like `cancelled`): the cancel rule is scoped by room. */
  private readonly rooms = new Map<string, string>();
  /**
   * The turns begun and not yet finished or cancelled, oldest first (bounded like `cancelled`): a node
   * may hold several at once, such as a reply waiting for its next chunk while an announcement is spoken.
   */
  private readonly open = new Set<string>();

  constructor(private readonly memory = 256) {}

  /** The turn the node began last and is still working on, if any. */
  get current(): string | undefined {
    let last: string | undefined;
    for (const id of this.open) last = id;
    return last;
  }

  /**
   * Marks a turn as the one in progress. Returns false (and changes nothing)
   * when the turn was already cancelled: its late messages must be dropped.
   */
  begin(turnId: string, room?: string): boolean {
    if (this.cancelled.has(turnId)) return false;
    this.open.delete(turnId);
    this.open.add(turnId);
    if (this.open.size > this.memory) this.open.delete(this.open.values().next().value as string);
    this.place(turnId, room);
    return true;
  }

  /** Notes the room a turn belongs to (a queued job not begun yet, say); nothing without a room. */
  place(turnId: string, room: string | undefined): void {
    if (room === undefined || this.rooms.get(turnId) === room) return;
    this.rooms.set(turnId, room);
    if (this.rooms.size > this.memory) this.rooms.delete(this.rooms.keys().next().value as string);
  }

  /** The room a turn was begun or placed in, if any. */
  roomOf(turnId: string): string | undefined {
    return this.rooms.get(turnId);
  }

  /** The cancel rule of an event, with this tracker's rooms. */
  matcher(c: CancelEvent): (turnId: string) => boolean {
    return cancels(c, (id) => this.roomOf(id));
  }

  /** Cancels one turn, or the current one when no id is given. Returns the id cancelled. */
  cancel(turnId: string | undefined = this.current): string | undefined {
    if (turnId === undefined) return undefined;
    this.cancelled.add(turnId);
    if (this.cancelled.size > this.memory) {
      // Sets iterate in insertion order: the first entry is the oldest.
      const oldest = this.cancelled.values().next().value as string;
      this.cancelled.delete(oldest);
    }
    this.open.delete(turnId);
    return turnId;
  }

  /**
   * Applies a control event's cancel rule (cancels()) to the turns this node
   * holds and to its open turns, and remembers the turn an interrupt names
   * even if none of its messages has arrived yet. Returns the held or open
   * turns it cancelled, for the node to stop.
   */
  cancelBy(c: CancelEvent, held: Iterable<string | undefined> = []): string[] {
    const match = this.matcher(c);
    const named = namedTurn(c);
    if (named !== undefined) this.cancel(named);
    const hit = new Set<string>();
    for (const id of [...held, ...this.open]) if (id !== undefined && match(id)) hit.add(id);
    for (const id of hit) this.cancel(id);
    return [...hit];
  }

  /** Ends a turn normally (nothing is cancelled). */
  finish(turnId: string): void {
    this.open.delete(turnId);
  }

  /** True when a message for this turn must be dropped. */
  isStale(turnId: string | undefined): boolean {
    return turnId !== undefined && this.cancelled.has(turnId);
  }
}
