// Wall time of a command, the median of RUNS runs after one warm-up, in ms, on stdout.
// Usage: node bench/median.mjs RUNS COMMAND [ARGS...]   (output of the command is discarded;
// a run that exits non-zero fails the benchmark, with its output).
import { spawnSync } from 'node:child_process';

const [runs, command, ...args] = process.argv.slice(2);
const once = () => {
  const t = performance.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) {
    process.stderr.write(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
  return ms;
};
once();
const times = Array.from({ length: Number(runs) }, once).sort((a, b) => a - b);
console.log(times[Math.floor(times.length / 2)].toFixed(1));
