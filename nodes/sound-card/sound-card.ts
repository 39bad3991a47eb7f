import type { Node, NodeAPI } from 'node-red';
import { logNativeNoiseTo } from '../../lib/audio-io/device-probe';
import { loadBackend, availableBackends } from '../../lib/audio-io/load-backend';
import { SoundCard, type CardState } from '../../lib/audio-io/sound-card';
import { BACKENDS, DeviceError, isPageGone, type AudioBackend, type BackendName } from '../../lib/audio-io/backend';
import { BrowserRoom } from '../../lib/audio-io/browser-room';
import { browserServer } from '../../lib/audio-io/browser-server';
import { onClose } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import type { CardDisplay } from './card-node';
import { MIGRATIONS, type SoundCardConfig, type SoundCardCredentials } from './config';

/** A sound-card config node as mic-in and speaker-out see it (nodes/sound-card/card-node.ts). */
type SoundCardNode = Node<SoundCardCredentials> & { card: SoundCard; display?: CardDisplay };

const isBackend = (v: unknown): v is BackendName => typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);

export = function register(RED: NodeAPI): void {
  // What ALSA / JACK / PulseAudio print while devices are looked for: one line, the text once at debug level.
  logNativeNoiseTo({ info: (line) => RED.log.info(line), debug: (text) => RED.log.debug(text) });

  function SoundCardConfigNode(this: SoundCardNode, raw: SoundCardConfig) {
    RED.nodes.createNode(this, raw);
    const config = migrate(raw, MIGRATIONS);
    const settings = { input: config.input, output: config.output, sampleRate: config.sampleRate, frameMs: config.frameMs, room: config.room };
    if (config.backend !== 'browser') {
      this.card = new SoundCard(() => loadBackend(config.backend as BackendName), settings);
      onClose(this, () => this.card.close());
      return;
    }
    // A browser card: its page is served while the node runs; the card opens when a page of the room starts.
    let backend: () => AudioBackend;
    let stopServing = (): void => undefined;
    try {
      const root = RED.settings.httpNodeRoot as string | false | undefined;
      if (root === false) throw new DeviceError('NO_BACKEND', 'the browser backend needs HTTP nodes, and httpNodeRoot is false in settings.js', 'no HTTP nodes');
      if (!RED.server) throw new DeviceError('NO_BACKEND', 'the browser backend needs the HTTP server of Node-RED, and this runtime has none', 'no HTTP server');
      const room = new BrowserRoom(config.room, { sampleRate: config.sampleRate, frameSamples: Math.round((config.sampleRate * config.frameMs) / 1000) }, this.credentials?.token ?? '');
      stopServing = browserServer({ server: RED.server, httpNode: RED.httpNode, httpNodeRoot: root ?? '/' }).add(room);
      backend = () => room;
      this.display = (kind, text, final) => room.show(kind, text, final);
    } catch (err) {
      backend = () => {
        throw err;
      };
    }
    this.card = new SoundCard(backend, { ...settings, opening: 'waiting for browser' });
    // Said once here, not by each node on the card: a page leaving is routine (mic-in and speaker-out show "waiting for browser").
    this.card.on('state', (state: CardState, err?: Error) => {
      if (state === 'retrying' && isPageGone(err)) this.log((err as Error).message);
    });
    onClose(this, () => {
      stopServing();
      return this.card.close();
    });
  }

  RED.nodes.registerType('sound-card', SoundCardConfigNode as never, { credentials: { token: { type: 'password' } } });

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
