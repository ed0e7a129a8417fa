import { writeMirror } from '../../source/mirror-copy.js';
import { locked } from '../locked.js';

/** `labctl mirror DIR`: the offline copy, written under the exclusive lock. */
export const mirrorAction = locked('exclusive', async (dir: string, flags: { cache: string }) => {
  const copy = await writeMirror(dir, { cacheDir: flags.cache, log: (l) => console.error(l) });
  console.error(`mirror: Exim ${copy.versions.join(', ')} in ${copy.releaseDir}`);
  console.log(copy.releaseDir);
});
