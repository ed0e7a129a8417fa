import { readdirSync } from 'node:fs';
import os from 'node:os';

/**
 * vitest's globalSetup in both configs: the run leaves no `labctl-*` scratch directory in the
 * temp directory. Every test that makes one removes it in its afterAll (and puts back any
 * environment variable that pointed at it, or a later file in the same worker writes there
 * again); one left behind fails the run here, named.
 */
const ours = () => readdirSync(os.tmpdir()).filter((n) => n.startsWith('labctl-'));

export default function setup(): () => void {
  const before = new Set(ours());
  return () => {
    const left = ours().filter((n) => !before.has(n));
    if (left.length) {
      throw new Error(`the tests left ${left.length} scratch director${left.length === 1 ? 'y' : 'ies'} in ${os.tmpdir()}: ${left.slice(0, 6).join(', ')}${left.length > 6 ? ', ...' : ''}; remove what a test makes in its afterAll`);
    }
  };
}
