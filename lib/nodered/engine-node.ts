import type { Node } from 'node-red';
import { EngineHost, type EngineHostOptions } from '../engine/host';
import type { ModelKind } from '../models/catalog';
import { installedModels } from '../models/installed';
import { onClose, onInput, shortReason } from './input';
import { Status } from './status';

/** The model a node's setting names, else the first of its kind installed from the catalog ('' when none: the engine's error then names the `models pull` command). */
export function chosenModel(configured: string, kind: ModelKind): string {
  return configured.trim() || installedModels(kind)[0]?.path || '';
}

/** What the shell of an engine-backed node needs from its controller. */
export interface EngineController<Info = unknown> {
  handle(msg: Record<string, unknown>): void | Promise<void>;
  /** The engine has (re)loaded; a controller without it is shown as "ready". */
  ready?(info: Info): void;
  /** The engine crashed and restarts: whatever depended on its state (its stream clock, open utterances) starts again. */
  restarted?(): void;
  close?(): void | Promise<void>;
}

/**
 * The shell every engine-backed node (asr, piper-tts, voiceprint) shares:
 * its engine runs in an EngineHost (off Node-RED's event loop, a crash costs
 * only this node), the status goes loading → ready, or failed with the
 * engine's own reason (a missing model's error names the command that
 * installs it); a crash shows "restarting" and tells the controller; input
 * goes to the controller; close stops the controller, then the engine.
 */
export function engineNode<Info, C extends EngineController<Info>>(node: Node, host: EngineHostOptions, makeController: (engine: EngineHost) => C, loadingText = 'loading model…'): C {
  const engine = new EngineHost(host);
  const controller = makeController(engine);
  engine.on('ready', (info: Info) => (controller.ready ? controller.ready(info) : node.status(Status.ready())));
  engine.on('crash', (err: Error) => {
    node.warn(`${err.message}; restarting`);
    controller.restarted?.();
    node.status(Status.waiting('restarting'));
  });
  engine.on('failed', (err: Error) => node.status(Status.failed(shortReason(err))));
  node.status(Status.waiting(loadingText));
  engine.start().catch((err: Error) => {
    node.status(Status.failed(shortReason(err)));
    node.error(err.message); // as readable text, with what to do
  });
  onInput(node, (msg) => controller.handle(msg as unknown as Record<string, unknown>));
  onClose(node, async () => {
    await controller.close?.();
    await engine.close();
  });
  return controller;
}
