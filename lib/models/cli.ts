import { BUNDLES, CATALOG, totalSize, type CatalogEntry } from './catalog';
import { DownloadError } from './download';
import { installModel } from './install';
import { isInstalled, modelsDir } from './models-dir';
import { progressFor } from './progress';
import { isHealthy, verifyModel } from './verify';

export interface CliContext {
  catalog?: CatalogEntry[];
  bundles?: Record<string, string[]>;
  dir?: string;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

const USAGE = `usage: realtime-voice models <command>

  list                      every model: kind, size, installed or not, licence
  pull <name|bundle>...     download, check and install (bundles: default, tiny)
       [--insecure-no-digest]  also models whose SHA-256 nobody verified
  verify [name]             check installed models (size and SHA-256)
  dir                       print the models directory ($VOICE_MODELS_DIR)
`;

function mb(bytes: number | null): string {
  return bytes === null ? '?' : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Levenshtein distance, to suggest a name the user probably meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** Runs `realtime-voice <args>`; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(args: string[], ctx: CliContext = {}): Promise<number> {
  const catalog = ctx.catalog ?? CATALOG;
  const bundles = ctx.bundles ?? BUNDLES;
  const dir = ctx.dir ?? modelsDir();
  const out = ctx.out ?? process.stdout;
  const err = ctx.err ?? process.stderr;
  const say = (s: string) => out.write(`${s}\n`);
  const fail = (s: string) => err.write(`${s}\n`);

  const [group, command, ...rest] = args;
  if (group !== 'models' || !command || command === 'help' || args.includes('--help')) {
    (group === 'models' || args.includes('--help') ? out : err).write(USAGE);
    return args.includes('--help') || command === 'help' ? 0 : 2;
  }

  const resolve = (names: string[]): CatalogEntry[] | string => {
    const found: CatalogEntry[] = [];
    for (const name of names.flatMap((n) => bundles[n] ?? [n])) {
      const entry = catalog.find((e) => e.name === name);
      if (!entry) {
        const near = catalog.map((e) => e.name).sort((a, b) => distance(name, a) - distance(name, b))[0];
        return `unknown model "${name}"${near ? `; did you mean "${near}"?` : ''} (see: realtime-voice models list)`;
      }
      found.push(entry);
    }
    return found;
  };

  switch (command) {
    case 'dir':
      say(dir);
      return 0;
    case 'list': {
      const rows = catalog.map((e) => [e.name, e.kind, mb(totalSize(e)), isInstalled(e, dir) ? 'yes' : 'no', e.licence]);
      const header = ['name', 'kind', 'size', 'installed', 'licence'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [header, ...rows]) say(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
      say(`\nbundles: ${Object.entries(bundles).map(([n, m]) => `${n} (${m.length} models)`).join(', ')}; models directory: ${dir}`);
      return 0;
    }
    case 'pull': {
      const names = rest.filter((a) => !a.startsWith('--'));
      if (!names.length) {
        fail('pull needs a model or bundle name, e.g. realtime-voice models pull default');
        return 2;
      }
      const entries = resolve(names);
      if (typeof entries === 'string') {
        fail(entries);
        return 1;
      }
      let failed = 0;
      for (const entry of entries) {
        if (isInstalled(entry, dir) && isHealthy(await verifyModel(entry, dir))) {
          say(`${entry.name}: already installed`);
          continue;
        }
        let progress = progressFor(entry.name, err);
        try {
          await installModel(entry, {
            dir,
            insecureNoDigest: rest.includes('--insecure-no-digest'),
            onFile: (f) => {
              progress.stop();
              progress = progressFor(`${entry.name}/${f.path}`, err);
            },
            onProgress: (r, t) => progress.update(r, t),
          });
          progress.stop();
          say(`${entry.name}: installed`);
        } catch (e) {
          progress.stop();
          failed++;
          fail(`${entry.name}: ${(e as Error).message}`);
          if (e instanceof DownloadError && e.code === 'OFFLINE') break;
        }
      }
      return failed ? 1 : 0;
    }
    case 'verify': {
      const entries = rest.length ? resolve(rest) : catalog.filter((e) => isInstalled(e, dir));
      if (typeof entries === 'string') {
        fail(entries);
        return 1;
      }
      if (!entries.length) say(`no models installed in ${dir}; try: realtime-voice models pull default`);
      let bad = 0;
      for (const entry of entries) {
        const reports = await verifyModel(entry, dir);
        const healthy = isHealthy(reports);
        if (!healthy) bad++;
        say(`${entry.name}: ${healthy ? 'ok' : 'PROBLEM'}`);
        for (const r of reports.filter((r) => r.state !== 'ok')) say(`  ${r.path}: ${r.state}${r.detail ? ` (${r.detail})` : ''}`);
      }
      return bad ? 1 : 0;
    }
    default:
      fail(`unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}
