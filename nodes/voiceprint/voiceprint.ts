import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { chosenModel, engineNode } from '../../lib/nodered/engine-node';
import { onClose } from '../../lib/nodered/input';
import { migrate } from '../../lib/nodered/migrate';
import { Status } from '../../lib/nodered/status';
import { VAD_DEFAULTS } from '../../lib/vad/silero-vad';
import { ProfileStore } from '../../lib/voiceprint/profile-store';
import type { VoiceprintEvent } from '../../lib/voiceprint/voiceprint-engine';
import { MIGRATIONS, type VoiceprintConfig } from './config';
import { VoiceprintController } from './controller';
import { registerProfileEndpoints } from './profile-endpoints';

/** The profile stores of deployed nodes, for the editor's list and delete buttons. */
const liveStores = new Set<ProfileStore>();

export = function register(RED: NodeAPI): void {
  function VoiceprintNode(this: Node, raw: VoiceprintConfig) {
    RED.nodes.createNode(this, raw);
    const node = this;
    const config = migrate(raw, MIGRATIONS);
    const model = chosenModel(config.model, 'speaker');
    // Enrolments live in the user directory, not node context (wiped on redeploy).
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    const store = new ProfileStore(join(userDir, 'realtime-voice', 'voiceprints.json'), basename(model || 'none'));
    if (store.problem) node.warn(store.problem);
    liveStores.add(store);
    onClose(node, () => void liveStores.delete(store));
    engineNode(
      node,
      {
        modulePath: require.resolve('../../lib/voiceprint/voiceprint-engine'),
        name: 'voiceprint',
        options: { model, decisionSeconds: config.decisionSeconds, vad: { ...VAD_DEFAULTS, model: chosenModel(config.vadModel, 'vad') } },
      },
      (engine) =>
        new VoiceprintController(
          {
            stream: (samples) => engine.call<VoiceprintEvent[]>('audio', samples, { transfer: [samples.buffer] }),
            enrol: (samples) => engine.call<number[]>('enrol', samples),
            store,
            readFile: (path) => readFile(path),
          },
          { mode: config.mode, threshold: config.threshold, selfName: config.selfName, selfSampleSeconds: 3, selfSamples: 5, delayMs: 500 },
          {
            audio: (m) => node.send([m, null]),
            events: (m) => node.send([null, m]),
            status: (kind, text) => node.status(Status[kind](text)),
            error: (err, m) => node.error(err, m),
          },
        ),
    );
  }

  RED.nodes.registerType('voiceprint', VoiceprintNode as never);

  // Enrolled voices for the editor: list and delete.
  registerProfileEndpoints(RED, liveStores);
};
