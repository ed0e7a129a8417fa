import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** templates/lab/, from src/lab/services (tsx, vitest) and from dist/lab/services (the built CLI) alike. */
export const labTemplatesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../templates/lab');
