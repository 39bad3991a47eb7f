import type { Node, NodeAPI } from 'node-red';
import { logNativeNoiseTo } from '../../lib/audio-io/device-probe';
import { loadBackend, availableBackends } from '../../lib/audio-io/load-backend';
import { SoundCard } from '../../lib/audio-io/sound-card';
import { BACKENDS, type BackendName } from '../../lib/audio-io/backend';
import { onClose } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { MIGRATIONS, type SoundCardConfig } from './config';

/** A sound-card config node as mic-in and speaker-out see it (nodes/sound-card/card-node.ts). */
type SoundCardNode = Node & { card: SoundCard };

const isBackend = (v: unknown): v is BackendName => typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);

export = function register(RED: NodeAPI): void {
  // What ALSA / JACK / PulseAudio print while devices are looked for: one line, the text once at debug level.
  logNativeNoiseTo({ info: (line) => RED.log.info(line), debug: (text) => RED.log.debug(text) });

  function SoundCardConfigNode(this: SoundCardNode, raw: SoundCardConfig) {
    RED.nodes.createNode(this, raw);
    const config = migrate(raw, MIGRATIONS);
    this.card = new SoundCard(() => loadBackend(config.backend), {
      input: config.input,
      output: config.output,
      sampleRate: config.sampleRate,
      frameMs: config.frameMs,
    });
    onClose(this, () => this.card.close());
  }

  RED.nodes.registerType('sound-card', SoundCardConfigNode as never);

  // Devices for the editor's dropdowns. Listing opens the audio system: admin only.
  RED.httpAdmin.get('/realtime-voice/audio-devices', RED.auth.needsPermission('sound-card.read'), async (req, res) => {
    const wanted = req.query.backend ?? 'audify';
    const backends = availableBackends();
    if (!isBackend(wanted)) {
      // Named back only when short: the answer never grows with what the caller sent.
      const shown = typeof wanted === 'string' && wanted.length <= 20 ? ` "${wanted}"` : '';
      return void res.status(400).json({ error: `unknown backend${shown} (one of: ${BACKENDS.join(', ')})`, backends });
    }
    try {
      res.json({ backends, devices: await loadBackend(wanted).probe() });
    } catch (err) {
      res.json({ backends, devices: [], error: (err as Error).message });
    }
  });
};
