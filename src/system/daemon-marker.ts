/**
 * Where a drill that stopped this machine's daemon leaves its marker (src/system/daemon-guard.ts).
 * Light on purpose: the CLI checks for it before every command, and loads the guard only when the
 * marker is there.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { paths } from '../paths.js';

export const daemonDownMarker = () => path.join(paths.stateDir, 'daemon-stopped-by-drill.json');

export const daemonLeftDown = () => existsSync(daemonDownMarker());
