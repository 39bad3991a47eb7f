import type { NodeAPI } from 'node-red';
import { checkName, type ProfileStore } from '../../lib/voiceprint/profile-store';

/** HTTP status for a store error: a bad name is the caller's fault, an unknown one is not found, a failed write is ours. */
const STATUS: Record<string, number> = { BAD_NAME: 400, UNKNOWN_NAME: 404, PROFILES_NOT_SAVED: 500 };

/**
 * The edit dialog's list and delete buttons: admin API endpoints behind
 * Node-RED's login (reading voiceprint.read, deleting voiceprint.write). The
 * name in the URL is a key of the profile file, never a path: "../x" is just
 * a voice nobody enrolled.
 */
export function registerProfileEndpoints(RED: NodeAPI, stores: ReadonlySet<ProfileStore>): void {
  RED.httpAdmin.get('/realtime-voice/voiceprints', RED.auth.needsPermission('voiceprint.read'), (_req, res) => {
    const [store] = stores;
    res.json({ names: store ? store.names() : [], deployed: Boolean(store) });
  });

  RED.httpAdmin.delete('/realtime-voice/voiceprints/:name', RED.auth.needsPermission('voiceprint.write'), (req, res) => {
    const name = String(req.params.name);
    try {
      checkName(name);
      // Every deployed node holds the voices in memory: all of them forget it, or a later enrolment writes it back.
      const holders = [...stores].filter((s) => s.has(name));
      if (!holders.length) {
        const [store] = stores;
        if (!store) return void res.status(404).json({ error: 'no voiceprint node is deployed: deploy one first', code: 'NOT_DEPLOYED' });
        store.remove(name); // throws UNKNOWN_NAME, naming the enrolled voices
      }
      for (const s of holders) s.remove(name);
      res.json({ names: holders[0].names() });
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERROR';
      res.status(STATUS[code] ?? 500).json({ error: (err as Error).message, code });
    }
  });
}
