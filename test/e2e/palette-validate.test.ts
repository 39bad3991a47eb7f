import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/paths';

type Check = { test: boolean; [detail: string]: unknown };

/**
 * Checks the Flow Library's scorecard may fail, and why (README, Requirements):
 * D01 counts dependencies (6 or fewer): three inference engines, an audio backend and their helpers are ten.
 * D03 wants the latest major of each: undici 8 and eventsource-parser 4 need Node >= 22.12,
 * and this package still supports Node 20.
 */
const ACCEPTED = ['D01', 'D03'];

describe('node-red-dev validate (the Flow Library scorecard), against an empty catalogue', function () {
  this.timeout(180_000);
  let card: Record<string, Check>;
  let output = '';
  const dir = mkdtempSync(join(tmpdir(), 'rv-validate-'));

  before(() => {
    const run = spawnSync('bash', [join(ROOT, 'scripts', 'validate.sh'), join(dir, 'scorecard.json')], { cwd: ROOT, encoding: 'utf8' });
    output = run.stdout + run.stderr;
    assert.equal(run.status, 0, output);
    card = JSON.parse(readFileSync(join(dir, 'scorecard.json'), 'utf8')) as Record<string, Check>;
    const { package: _pkg, ...checks } = card;
    console.log(`      scorecard: ${Object.entries(checks).map(([id, c]) => `${id} ${c.test ? 'pass' : 'warn'}`).join(', ')}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes every package and node check: licence, repository, name, keyword, Node-RED and Node versions, unique types, examples', () => {
    const failed = Object.entries(card).filter(([id, c]) => id !== 'package' && !c.test && !ACCEPTED.includes(id));
    assert.deepEqual(failed, [], output);
    for (const id of ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02', 'D02']) assert.equal(card[id]?.test, true, `${id} ran and passed:\n${output}`);
  });

  it('finds an example flow for every node that is not a config node, and counts the dependencies package.json has', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; 'node-red': { nodes: Record<string, string> } };
    const configNodes = Object.entries(pkg['node-red'].nodes)
      .filter(([, js]) => /category:\s*['"]config['"]/.test(readFileSync(join(ROOT, js.replace(/\.js$/, '.html')), 'utf8')))
      .map(([name]) => name);
    const flowNodes = Object.keys(pkg['node-red'].nodes).filter((n) => !configNodes.includes(n));
    assert.deepEqual(((card.N02.nodes as string[]) ?? []).slice().sort(), flowNodes.sort());
    // D01 counts what package.json says; D03 moves with every release upstream, so it is only printed.
    assert.equal(card.D01.total, Object.keys(pkg.dependencies).length);
    if (!card.D03.test) console.log(`      D03, behind their latest major: ${(card.D03.packages as string[]).join(', ')}`);
  });
});
