// After tsc (`npm run build`): dist/source/release-check.js as one file, src/source/release-check.ts
// and the modules it reaches (release-keys, pinned-keys, signature-fast, packets, keyring, pinned)
// bundled, so an install loads the signature check's code in one read. The entry is read from
// src/ and resolved against dist/source, which tsc has just written, so the bundle is never older
// than the modules in it. OpenPGP.js's modules (trust, signature), errors.js and
// signature-error.js stay separate (LabError and SignatureError must stay one class each for
// instanceof).
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
await build({
  stdin: {
    contents: readFileSync(new URL('src/source/release-check.ts', root), 'utf8'),
    loader: 'ts',
    resolveDir: new URL('dist/source', root).pathname,
    sourcefile: 'release-check.ts',
  },
  outfile: new URL('dist/source/release-check.js', root).pathname,
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['../errors.js', './signature-error.js', './trust.js', './signature.js'],
  logLevel: 'warning',
});
