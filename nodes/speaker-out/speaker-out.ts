import type { Node, NodeAPI } from 'node-red';
import { PlaybackQueue } from '../../lib/audio-io/playback-queue';
import { WavFileOutput } from '../../lib/audio-io/wav-file-output';
import { followCard } from '../../lib/nodered/card-status';
import { onClose, onInput } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { isTranscript } from '../../lib/messages';
import { cardOf, displayOf } from '../sound-card/card-node';
import { MIGRATIONS, type SpeakerOutConfig } from './config';
import { SpeakerController } from './controller';

/** A WAV file sink plays in 20 ms buffers, like the default sound card. */
const WAV_BUFFER_MS = 20;

export = function register(RED: NodeAPI): void {
  function SpeakerOutNode(this: Node, raw: SpeakerOutConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const card = config.sink === 'device' ? cardOf(RED, config.card) : undefined;
    /** A card in a room plays only that room's messages, and those that name none (an announcement for all). */
    const room = card?.settings.room;
    /** A browser card's page shows what was heard and what is said. */
    const show = card ? displayOf(RED, config.card) : undefined;
    let shown = '';
    const sampleRate = card ? card.settings.sampleRate : config.wavRate;
    const framesPerBuffer = card ? card.framesPerBuffer : Math.round((config.wavRate * WAV_BUFFER_MS) / 1000);

    const controller: SpeakerController = new SpeakerController(
      { sampleRate, enqueue: (item) => queue.enqueue(item), cancel: (match) => queue.cancel(match) },
      {
        control: (m) => node.send([room ? Object.assign(m, { room }) : m, null]),
        metrics: (m) => node.send([null, room ? Object.assign(m, { room }) : m]),
        status: (kind, text) => node.status(Status[kind](text)),
      },
    );
    const queue = new PlaybackQueue({ sampleRate, framesPerBuffer }, { started: (id) => controller.started(id), ended: (r) => controller.ended(r) });

    const releases: Array<() => void> = [];
    let file: WavFileOutput | undefined;
    if (card) {
      releases.push(followCard(node, card, () => node.status(Status.ready())));
      releases.push(card.addOutput({ attach: (sink) => queue.attach(sink), onPlayed: () => queue.onPlayed() }));
    } else if (config.sink === 'wav' && config.wavPath.trim()) {
      file = new WavFileOutput(config.wavPath.trim(), sampleRate, framesPerBuffer, () => queue.onPlayed());
      queue.attach(file);
      node.status(Status.ready('to file'));
    } else {
      node.status(Status.failed(config.sink === 'wav' ? 'no file' : 'no sound card'));
      node.error(new Error(config.sink === 'wav' ? 'speaker-out: no WAV file set' : 'speaker-out needs a sound card: pick or add a sound-card config node'));
    }

    onInput(node, (msg) => {
      const to = (msg as { room?: unknown }).room;
      if (room && typeof to === 'string' && to !== '' && to !== room) return;
      // asr's transcripts may be wired here too: shown on a browser card's page, played nowhere.
      if (isTranscript(msg)) return void show?.('heard', msg.payload, !msg.partial);
      const said = (msg as { text?: unknown }).text;
      if (show && typeof said === 'string' && said !== shown) show('said', (shown = said), true);
      controller.handle(msg as unknown as Record<string, unknown>);
    });
    onClose(node, () => {
      queue.cancel(() => true);
      queue.close();
      for (const release of releases) release();
      file?.close();
    });
  }

  RED.nodes.registerType('speaker-out', SpeakerOutNode as never);
};
