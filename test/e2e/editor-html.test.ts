import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { ROOT } from '../support/paths';

const nodes = readdirSync(join(ROOT, 'nodes'));

describe('editor files of every node', () => {
  for (const name of nodes) {
    it(`${name}.html: editor code compiles, help has Inputs, Outputs and Details`, () => {
      const html = readFileSync(join(ROOT, 'nodes', name, `${name}.html`), 'utf8');
      const code = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
      assert.equal(code.length, 1, 'one editor script');
      assert.doesNotThrow(() => new Script(code[0], { filename: `${name}.html` }));
      assert.match(code[0], new RegExp(`registerType\\('${name}'`));
      assert.match(code[0], /category: 'voice'/);
      const help = new RegExp(`<script type="text/markdown" data-help-name="${name}">([\\s\\S]*?)</script>`).exec(html)?.[1] ?? '';
      for (const section of ['### Inputs', '### Outputs', '### Details']) assert.ok(help.includes(section), `${name} help lacks ${section}`);
      assert.match(html, new RegExp(`data-template-name="${name}"`));
    });
  }
});
