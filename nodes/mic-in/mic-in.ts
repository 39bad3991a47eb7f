import type { Node, NodeAPI } from 'node-red';
import { WavFileInput } from '../../lib/audio-io/wav-file-input';
import { followCard } from '../../lib/nodered/card-status';
import { onClose, onInput, shortReason } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { cardOf } from '../sound-card/card-node';
import { MIGRATIONS, type MicInConfig } from './config';
import { MicController, type MicSource } from './controller';

export = function register(RED: NodeAPI): void {
  function MicInNode(this: Node, raw: MicInConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const card = config.source === 'device' ? cardOf(RED, config.card) : undefined;
    const room = card?.settings.room;
    let unfollow = (): void => undefined;

    const source = (): MicSource => {
      if (config.source === 'wav') {
        if (!config.wavPath.trim()) throw new Error('no WAV file set: choose one in the node, or use a sound card');
        return new WavFileInput(config.wavPath.trim(), config.pace, config.frameMs);
      }
      if (!card) throw new Error('no sound card: pick or add a sound-card config node');
      let release: (() => void) | undefined;
      const rate = card.settings.sampleRate;
      return {
        start: (onSamples) => {
          release = config.echoCancel ? card.addInputWithPlayback((samples, played) => onSamples(samples, rate, played)) : card.addInput((samples) => onSamples(samples, rate));
        },
        stop: () => release?.(),
      };
    };
    const controller = new MicController(
      source,
      {
        // A card in a room (a browser satellite) tags its audio: asr copies the room onto what it hears.
        audio: (m) => node.send(room ? Object.assign(m, { room }) : m),
        status: (kind, text) => node.status(Status[kind](text)),
      },
      config.frameMs,
      config.source === 'device' && config.echoCancel,
    );
    if (card) unfollow = followCard(node, card, () => node.status(Status.busy(controller.state.muted ? 'muted' : 'listening')));

    onInput(node, (msg) => controller.handle(msg as unknown as Record<string, unknown>));
    onClose(node, () => {
      unfollow();
      controller.stop();
    });

    if (config.source === 'device' && !card) {
      node.status(Status.failed('no sound card'));
      node.error(new Error('mic-in needs a sound card: pick or add a sound-card config node'));
    } else if (config.autoStart) {
      controller.start().catch((err: Error) => {
        node.status(Status.failed(shortReason(err)));
        node.error(err);
      });
    } else node.status(Status.idle('stopped'));
  }

  RED.nodes.registerType('mic-in', MicInNode as never);
};
