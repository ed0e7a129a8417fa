/**
 * The TypeScript compiler for the lints (test/lint/, suggested-commands), loaded with require():
 * vitest.unit.config.ts and vitest.config.ts point `typescript` here. It is a 9 MB CommonJS
 * file, and an `import` of it has Node scan the whole of it for named exports first: 0.45 s of
 * CPU in each test worker that loads it, for nothing the lints use.
 */
import { createRequire } from 'node:module';
import type TS from 'typescript';

const ts = createRequire(import.meta.url)('typescript') as typeof TS;
export default ts;
