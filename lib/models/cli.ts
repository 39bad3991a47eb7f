import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLES, CATALOG, totalSize, type CatalogEntry } from './catalog';
import { cliCommand } from './command';
import { DownloadError } from './download';
import { installModel, MissingFilesError, stagingPath, type MissingFile } from './install';
import { LocalFiles } from './local-files';
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

const TOP_USAGE = `usage: realtime-voice <command>

  models <command>          list, pull, verify the models (realtime-voice models --help)
  doctor                    check models, sound devices, engines and llama-server; says what to fix
`;

const USAGE = `usage: realtime-voice models <command>

  list                      every model: kind, size, installed or not, licence
  pull <name|bundle>...     download, check and install (bundles: default, tiny)
       [--from <folder>]       take the files from a folder (e.g. a USB stick) instead
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

/** `pull`'s arguments: names, `--from <folder>`, `--insecure-no-digest`; a string is a usage error. */
function pullArgs(rest: string[]): { names: string[]; from?: string; insecureNoDigest: boolean } | string {
  const names: string[] = [];
  let from: string | undefined;
  let insecureNoDigest = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--insecure-no-digest') insecureNoDigest = true;
    else if (arg === '--from' || arg.startsWith('--from=')) {
      from = arg === '--from' ? rest[++i] : arg.slice('--from='.length);
      if (!from) return '--from needs a folder, e.g. --from /media/usb/models';
    } else if (arg.startsWith('--')) return `unknown option ${arg}\n${USAGE}`;
    else names.push(arg);
  }
  return { names, from, insecureNoDigest };
}

/**
 * The offline way, printed once for a whole pull: every URL with the exact
 * path the next run takes it from, and that one next run.
 */
function offlineSteps(missing: MissingFile[], hosts: string[], again: string): string {
  const lines = [
    `\nOffline: cannot reach ${hosts.join(', ')}. On a machine with internet, download these ${missing.length} file(s) and put each at the path after it:`,
    ...missing.map((m) => `  ${m.url}\n    -> ${m.dest}`),
    `Then run: ${cliCommand(again)}`,
    `(Or copy the downloaded files, under any names, into one folder such as a USB stick and run: ${cliCommand(`${again} --from <folder>`)})`,
  ];
  return lines.join('\n');
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
  const help = args.includes('--help') || args.includes('-h') || args[0] === 'help' || command === 'help';
  if (group !== 'models') {
    (help ? out : err).write(group && !help ? `unknown command "${group}"\n${TOP_USAGE}` : TOP_USAGE);
    return help ? 0 : 2;
  }
  if (!command || help) {
    (help ? out : err).write(USAGE);
    return help ? 0 : 2;
  }

  const resolve = (names: string[]): CatalogEntry[] | string => {
    const found: CatalogEntry[] = [];
    for (const name of names.flatMap((n) => bundles[n] ?? [n])) {
      const entry = catalog.find((e) => e.name === name);
      if (!entry) {
        const near = catalog.map((e) => e.name).sort((a, b) => distance(name, a) - distance(name, b))[0];
        return `unknown model "${name}"${near ? `; did you mean "${near}"?` : ''} (see: ${cliCommand('models list')})`;
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
      const parsed = pullArgs(rest);
      if (typeof parsed === 'string') {
        fail(parsed);
        return 2;
      }
      if (!parsed.names.length) {
        fail(`pull needs a model or bundle name, e.g. ${cliCommand('models pull default')}`);
        return 2;
      }
      const entries = resolve(parsed.names);
      if (typeof entries === 'string') {
        fail(entries);
        return 1;
      }
      let from: LocalFiles | undefined;
      try {
        from = parsed.from === undefined ? undefined : await LocalFiles.scan(parsed.from);
      } catch (e) {
        fail((e as Error).message);
        return 1;
      }
      const offlineHosts = new Set<string>();
      const offline: MissingFile[] = [];
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
            insecureNoDigest: parsed.insecureNoDigest,
            from,
            offlineHosts,
            onRefused: (message) => {
              progress.stop();
              fail(message);
            },
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
          if (e instanceof MissingFilesError) {
            say(`${entry.name}: not installed, ${e.missing.length} of ${entry.files.length} file(s) missing`);
            for (const m of e.missing) {
              if (m.error instanceof DownloadError && m.error.code === 'OFFLINE') offline.push(m);
              else fail(`  ${m.url}: ${m.error.message}`);
            }
          } else fail(`${entry.name}: ${(e as Error).message}`);
        }
      }
      if (offline.length) fail(offlineSteps(offline, [...offlineHosts], ['models pull', ...parsed.names].join(' ')));
      else if (failed) fail(`${failed} model(s) not installed; after fixing the above, run: ${cliCommand(['models pull', ...parsed.names].join(' '))}`);
      return failed ? 1 : 0;
    }
    case 'verify': {
      const entries = rest.length ? resolve(rest) : catalog.filter((e) => isInstalled(e, dir));
      if (typeof entries === 'string') {
        fail(entries);
        return 1;
      }
      if (!entries.length) say(`no models installed in ${dir}; install the default bundle with: ${cliCommand('models pull default')}`);
      // Files put where an offline pull said are installed by pull, not by verify: say so.
      const waiting = catalog.filter((e) => !isInstalled(e, dir) && e.files.some((f) => existsSync(stagingPath(dir, e, f))));
      if (waiting.length) say(`files put in ${join(dir, '.downloads')} are not installed yet; install them with: ${cliCommand(`models pull ${waiting.map((e) => e.name).join(' ')}`)}`);
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
