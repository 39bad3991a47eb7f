import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createContext, Script } from 'node:vm';
import { ROOT } from '../support/paths';

const nodes = readdirSync(join(ROOT, 'nodes'));
/** Config nodes live in the editor's config category and have properties, not inputs and outputs. */
const CONFIG_NODES = new Set(['sound-card', 'wyoming-server']);

describe('editor files of every node', () => {
  for (const name of nodes) {
    it(`${name}.html: editor code compiles, help has its sections`, () => {
      const html = readFileSync(join(ROOT, 'nodes', name, `${name}.html`), 'utf8');
      const code = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
      assert.equal(code.length, 1, 'one editor script');
      assert.doesNotThrow(() => new Script(code[0], { filename: `${name}.html` }));
      assert.match(code[0], new RegExp(`registerType\\('${name}'`));
      assert.match(code[0], CONFIG_NODES.has(name) ? /category: 'config'/ : /category: 'voice'/);
      const help = new RegExp(`<script type="text/markdown" data-help-name="${name}">([\\s\\S]*?)</script>`).exec(html)?.[1] ?? '';
      const sections = CONFIG_NODES.has(name) ? ['### Properties', '### Details'] : ['### Inputs', '### Outputs', '### Details'];
      for (const section of sections) assert.ok(help.includes(section), `${name} help lacks ${section}`);
      assert.match(html, new RegExp(`data-template-name="${name}"`));
    });

    it(`${name}.html: the editor's defaults are the runtime's (nodes/${name}/config.ts)`, async () => {
      const html = readFileSync(join(ROOT, 'nodes', name, `${name}.html`), 'utf8');
      const code = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)![1];
      let editor: { defaults: Record<string, { value: unknown }> } | undefined;
      // Only registerType runs when the editor loads the file; the rest is called from the edit dialog.
      new Script(code).runInContext(createContext({ RED: { events: { on: () => undefined }, nodes: { registerType: (_t: string, def: typeof editor) => (editor = def) }, validators: { number: () => () => true, regex: () => () => true } } }));
      const { DEFAULTS } = (await import(join(ROOT, 'nodes', name, 'config.ts'))) as { DEFAULTS: Record<string, unknown> };
      const shared = Object.keys(DEFAULTS).filter((key) => key in editor!.defaults);
      assert.ok(shared.length >= Object.keys(DEFAULTS).length - 2, `${name}: the editor lists the settings (${shared.join(', ')})`);
      for (const key of shared) assert.deepEqual(editor!.defaults[key].value, DEFAULTS[key], `${name}.${key}`);
    });
  }
});
