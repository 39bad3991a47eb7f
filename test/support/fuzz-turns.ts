import type { ControlType } from '../../lib/control/protocol';

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
