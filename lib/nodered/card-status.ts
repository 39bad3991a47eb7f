import type { Node } from 'node-red';
import { isPageGone } from '../audio-io/backend';
import type { CardState, SoundCard } from '../audio-io/sound-card';
import { shortReason } from './input';
import { Status } from './status';

/**
 * Shows a sound card's state under a node that uses it, and reports each new
 * failure once (a device that stays missing retries quietly, it does not flood
 * the debug sidebar). A browser page that left is no failure: the node waits
 * for the next one, as before the first (the card logs it). Returns the
 * function that stops listening.
 */
export function followCard(node: Node, card: SoundCard, onOpen: () => void): () => void {
  let lastError = '';
  const listener = (state: CardState, err?: Error) => {
    if (state === 'opening') node.status(Status.waiting(card.settings.opening ?? 'opening device'));
    if (state === 'open') {
      lastError = '';
      onOpen();
    }
    if (state === 'retrying' && isPageGone(err)) {
      lastError = '';
      node.status(Status.waiting(shortReason(err as Error)));
    } else if ((state === 'retrying' || state === 'failed') && err) {
      node.status(Status.failed(shortReason(err)));
      if (err.message !== lastError) node.error(state === 'retrying' ? `${err.message}; retrying` : err.message);
      lastError = err.message;
    }
  };
  card.on('state', listener);
  return () => card.off('state', listener);
}
