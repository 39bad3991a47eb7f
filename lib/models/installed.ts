import { join, relative, sep } from 'node:path';
import { BUNDLES, CATALOG, type ModelKind } from './catalog';
import { pullCommand } from './command';
import { isInstalled, modelPath, modelsDir } from './models-dir';

/** An installed catalog model, as the editor's dropdowns list it. */
export interface InstalledModel {
  name: string;
  description: string;
  /** Shown beside it in the dropdown: whether the user may use what it makes, and how. */
  licence: string;
  /** What a node loads: the model folder, or its main file for single-file models. */
  path: string;
}

/**
 * The catalog models of one kind that are installed, in catalog order (so the
 * first is the default a node uses when none is chosen). Archive models are
 * folders; single-file models point at their first file.
 */
export function installedModels(kind: ModelKind, dir?: string): InstalledModel[] {
  return CATALOG.filter((e) => e.kind === kind && isInstalled(e, dir)).map((e) => {
    const folder = modelPath(e, dir);
    const main = e.files[0];
    return { name: e.name, description: e.description, licence: e.licence, path: main.archive ? folder : join(folder, main.path) };
  });
}

/** The catalog model whose folder holds `path` (a file or the folder itself), if any. */
export function catalogNameOf(path: string): string | undefined {
  const inside = relative(modelsDir(), path);
  const name = inside.split(sep)[0];
  return !inside.startsWith('..') && CATALOG.some((e) => e.name === name) ? name : undefined;
}

/** The default bundle's model of a kind (the first, for recognisers). */
export function defaultModelName(kind: ModelKind): string | undefined {
  return BUNDLES.default.find((n) => CATALOG.find((e) => e.name === n)?.kind === kind);
}

/** What an editor dropdown offers: the installed models, and the command that installs the default one. */
export function modelChoices(kind: ModelKind): { installed: InstalledModel[]; pull: string } {
  return { installed: installedModels(kind), pull: pullCommand(defaultModelName(kind) ?? 'default') };
}
