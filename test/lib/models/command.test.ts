import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { cliCommand, pullCommand } from '../../../lib/models/command';
import { ROOT } from '../../support/paths';

describe('the realtime-voice command as users type it', () => {
  it('is npx realtime-voice in a checkout (this one)', () => {
    assert.equal(pullCommand('vad-silero'), 'npx realtime-voice models pull vad-silero');
    assert.equal(cliCommand('models list', ROOT), 'npx realtime-voice models list');
  });

  it('goes to the Node-RED user directory first when installed from the palette', () => {
    const installed = join(homedir(), '.node-red', 'node_modules', 'node-red-contrib-realtime-voice');
    assert.equal(cliCommand('models pull default', installed), 'cd ~/.node-red && npx realtime-voice models pull default');
    assert.equal(cliCommand('doctor', '/srv/node red/node_modules/node-red-contrib-realtime-voice'), 'cd "/srv/node red" && npx realtime-voice doctor');
  });
});
