import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort, launchNodeRed, type NodeRedProcess } from './node-red-process';
import { ROOT } from './paths';

export const PASSWORD = 'correct horse';

/** Node-RED's user accounts: "*" (everything), "read" (every read permission), or a list of permissions. */
export type Users = Record<string, string | string[]>;

export interface SecuredNodeRed {
  red: NodeRedProcess;
  userDir: string;
  /** Logs in as the editor does (scope '': all the user's permissions); returns the Authorization header. */
  login(username: string, scope?: string): Promise<{ Authorization: string }>;
  stop(): Promise<void>;
}

/**
 * A real Node-RED (this package from dist/, as users install it) with
 * adminAuth on, in a fresh user directory holding `files` (e.g. flows.json).
 * Audit logging is on, so a refused permission shows in `red.log()`.
 */
export async function launchSecuredNodeRed(users: Users, files: Record<string, string> = {}, env: NodeJS.ProcessEnv = process.env): Promise<SecuredNodeRed> {
  const userDir = mkdtempSync(join(tmpdir(), 'rv-auth-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(userDir, name)), { recursive: true });
    writeFileSync(join(userDir, name), text);
  }
  const port = await freePort();
  const accounts = Object.entries(users).map(([username, permissions]) => ({ username, password: bcrypt.hashSync(PASSWORD, 8), permissions }));
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    nodesDir: [ROOT],
    telemetry: { enabled: false },
    logging: { console: { level: 'info', audit: true } },
    adminAuth: { type: 'credentials', users: accounts },
  };
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
  const red = await launchNodeRed([join(ROOT, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--port', String(port)], port, { env });
  return {
    red,
    userDir,
    async login(username, scope = '') {
      const res = await fetch(`${red.base}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope, username, password: PASSWORD }),
      });
      assert.equal(res.status, 200, `login as ${username}`);
      return { Authorization: `Bearer ${((await res.json()) as { access_token: string }).access_token}` };
    },
    async stop() {
      await red.stop();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
