import { pullCommand } from './command';
import { catalogNameOf } from './installed';

/**
 * The next step for a model file that is there but cannot be used (cut short
 * by a failed download, overwritten, the wrong kind): a catalog model is
 * pulled again (pull replaces a file that fails its checksum), any other
 * file must be replaced by the user.
 */
export function damagedFileHint(path: string): string {
  const name = catalogNameOf(path);
  return name ? `download it again with "${pullCommand(name)}", then deploy` : 'download it again or choose another file, then deploy';
}
