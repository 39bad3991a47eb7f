import type { Node, NodeAPI } from 'node-red';
import type { AsrEvent, AsrInfo, AsrOptions } from '../../lib/asr/asr-engine';
import { EngineHost } from '../../lib/engine/host';
import { installedModels, modelChoices } from '../../lib/models/installed';
import { onClose, onInput, shortReason } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { MIGRATIONS, type AsrConfig } from './config';
import { AsrController } from './controller';

export = function register(RED: NodeAPI): void {
  function AsrNode(this: Node, raw: AsrConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    // Empty paths mean the catalog's models, the first installed in catalog order.
    const options: AsrOptions = {
      vad: {
        model: config.vadModel.trim() || installedModels('vad')[0]?.path || '',
        threshold: config.vadThreshold,
        minSpeech: config.minSpeech,
        minSilence: config.minSilence,
        maxSpeech: config.maxSpeech,
      },
      modelDir: config.modelDir.trim() || installedModels('asr')[0]?.path || '',
      language: config.language.trim(),
    };
    const engine = new EngineHost({ modulePath: require.resolve('../../lib/asr/asr-engine'), name: 'asr', options });
    const controller = new AsrController(
      (method, samples, onEvent) =>
        engine.call<AsrEvent[]>(method, samples, { transfer: samples ? [samples.buffer] : undefined, onChunk: (e) => onEvent(e as AsrEvent) }),
      { pauseDuringPrefill: config.pauseDuringPrefill, maxPausedSeconds: 30, maxBacklogSeconds: 10 },
      {
        transcript: (m) => node.send([m, null, null]),
        control: (m) => node.send([null, m, null]),
        metrics: (m) => node.send([null, null, m]),
        status: (kind, text) => node.status(Status[kind](text)),
        warn: (text) => node.warn(text),
      },
    );
    engine.on('ready', (info: AsrInfo) => controller.ready(info));
    engine.on('crash', (err: Error) => {
      node.warn(`${err.message}; restarting`);
      node.status(Status.waiting('restarting'));
      controller.restarted();
    });
    engine.on('failed', (err: Error) => node.status(Status.failed(shortReason(err))));

    node.status(Status.waiting('loading model…'));
    engine.start().catch((err: Error) => {
      node.status(Status.failed(shortReason(err)));
      node.error(err.message); // as readable text; a missing model's error names the command that installs it
    });

    onInput(node, (msg) => controller.handle(msg as unknown as Record<string, unknown>));
    onClose(node, async () => {
      controller.close();
      await engine.close();
    });
  }

  RED.nodes.registerType('asr', AsrNode as never);

  // Installed recognisers for the editor's dropdown.
  RED.httpAdmin.get('/realtime-voice/asr-models', RED.auth.needsPermission('asr.read'), (_req, res) => {
    res.json(modelChoices('asr'));
  });
};
