/**
 * Zeroconf: the server announces itself as `_wyoming._tcp` so that Home
 * Assistant's Wyoming integration offers it under Discovered. Off unless the
 * server node asks: the announcement goes to the whole local network.
 */
import { Bonjour } from 'bonjour-service';

export interface Announcement {
  stop(): Promise<void>;
}

export function announce(name: string, port: number, onError: (err: Error) => void): Announcement {
  const bonjour = new Bonjour(undefined, onError);
  const service = bonjour.publish({ name, type: 'wyoming', protocol: 'tcp', port });
  service.on('error', onError);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        bonjour.unpublishAll(() => bonjour.destroy(() => resolve()));
      }),
  };
}
