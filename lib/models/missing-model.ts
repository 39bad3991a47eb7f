import type { ModelKind } from './catalog';
import { pullCommand } from './command';
import { catalogNameOf, defaultModelName } from './installed';

/**
 * The status text of every node whose model is not there. A status has room
 * for under 20 characters, not for a command: it points at the debug
 * sidebar, where the node's error names the command (missingModelHint).
 */
export const MISSING_MODEL_STATUS: Record<ModelKind, string> = {
  vad: 'no VAD: see debug',
  turn: 'no model: see debug',
  asr: 'no model: see debug',
  tts: 'no voice: see debug',
  speaker: 'no model: see debug',
  llm: 'no model: see debug',
};

/**
 * The next step for a model of `kind` that is not at `path` (empty: none
 * chosen and none installed): a catalog model is pulled by its name; with
 * nothing chosen, the default bundle's model of that kind; a file of the
 * user's own is theirs to put back or replace.
 */
export function missingModelHint(kind: ModelKind, path: string): string {
  const name = path ? catalogNameOf(path) : defaultModelName(kind);
  if (!name) return 'check the path, or choose an installed model in the node, then deploy';
  const others = path ? '' : ` (or "${pullCommand('default')}" for every default model), or choose a file in the node`;
  return `run "${pullCommand(name)}", then deploy${others}`;
}

/** The error text for a model of `kind` that is not at `path`, with the next step. */
export function missingModelMessage(kind: ModelKind, what: string, path: string): string {
  return `${path ? `${what} not found: ${path}` : `no ${what} chosen, and none installed`}: ${missingModelHint(kind, path)}`;
}
