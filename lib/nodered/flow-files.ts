import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../models/command';

/**
 * The Node-RED user directories this package is likely run from: the one
 * `npm start` uses ($NODE_RED_USER_DIR, else .node-red/ in the checkout), and
 * Node-RED's own default, ~/.node-red (a palette install).
 */
export function userDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [env.NODE_RED_USER_DIR, join(packageRoot(), '.node-red'), join(homedir(), '.node-red')].filter((d): d is string => Boolean(d));
  return [...new Set(dirs)].filter((d) => existsSync(d));
}

/** Every flow file in those directories: flows.json, or flows_<host>.json of older Node-RED (credentials and backups left out). */
export function flowFiles(dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => /^flows.*\.json$/.test(f) && !/_cred/.test(f))
      .map((f) => join(dir, f)),
  );
}

/** The llama-server URLs the llama-llm nodes of these flows use, each once, with the file that names it. */
export function llamaServerUrls(files: string[]): { url: string; file: string }[] {
  const found = new Map<string, string>();
  for (const file of files) {
    let nodes: unknown;
    try {
      nodes = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // not ours to judge: Node-RED reports a broken flow file itself
    }
    if (!Array.isArray(nodes)) continue;
    for (const n of nodes as Array<{ type?: unknown; url?: unknown }>) {
      const url = n?.type === 'llama-llm' && typeof n.url === 'string' ? n.url.trim() : '';
      if (url && !found.has(url)) found.set(url, file);
    }
  }
  return [...found].map(([url, file]) => ({ url, file }));
}
