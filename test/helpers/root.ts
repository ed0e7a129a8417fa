import { expect, it } from 'vitest';

/** The end-to-end tests install Exim, start daemons and build namespaces: they need root. */
export const isRoot = process.getuid?.() === 0;

/**
 * The first test of every e2e file. The file's tests run only as root (`describe.runIf(isRoot)`),
 * so without this a run without root would come out green with every one of them skipped; with
 * it, such a run fails here, saying why.
 */
export function requireRoot(): void {
  it('runs as root (the end-to-end tests install Exim, start daemons and build namespaces)', () => {
    expect(isRoot, 'run the e2e tests as root: sudo npm test').toBe(true);
  });
}
