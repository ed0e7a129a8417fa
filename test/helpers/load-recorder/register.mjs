// Preloaded into a labctl run with `node --import` (test/helpers/loaded-packages.ts): registers
// hooks.mjs, which appends every module URL the run resolves to the file LABCTL_LOAD_LOG names.
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url), { data: { log: process.env.LABCTL_LOAD_LOG } });
