import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelFile } from './catalog';
import { sha256File } from './verify';

/**
 * The files of a folder (a USB stick, a download folder) that `pull --from`
 * installs from. Files are recognised by content, not name: browsers and
 * mirrors rename downloads ("voice (1).onnx"), and several Piper voices share
 * the same file name. Only files of a wanted size are hashed, each once.
 */
export class LocalFiles {
  private bySize = new Map<number, string[]>();
  private digests = new Map<string, Promise<string>>();

  private constructor(readonly folder: string) {}

  static async scan(folder: string): Promise<LocalFiles> {
    let info;
    try {
      info = await stat(folder);
    } catch {
      throw new Error(`--from ${folder}: no such folder`);
    }
    if (!info.isDirectory()) throw new Error(`--from ${folder}: not a folder`);
    const files = new LocalFiles(folder);
    await files.add(folder, 0);
    return files;
  }

  /** Walks a few levels down: a copied models directory keeps one folder per model. */
  private async add(dir: string, depth: number): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth < 3) await this.add(path, depth + 1);
      else if (entry.isFile()) {
        const { size } = await stat(path);
        this.bySize.set(size, [...(this.bySize.get(size) ?? []), path]);
      }
    }
  }

  /** The path of a file with this catalog file's size and SHA-256, if the folder has one. */
  async find(file: ModelFile): Promise<string | undefined> {
    if (file.size === null || file.sha256 === null) return undefined;
    for (const path of this.bySize.get(file.size) ?? []) {
      if (!this.digests.has(path)) this.digests.set(path, sha256File(path));
      if ((await this.digests.get(path)) === file.sha256) return path;
    }
    return undefined;
  }
}
