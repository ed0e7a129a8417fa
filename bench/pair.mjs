// Wall times of several commands measured in turns (A, B, C, A, B, C, ...), so that each sees the
// machine's same load: the median of RUNS runs of each after one warm-up round, in ms, one per
// line in the order given. Usage: node bench/pair.mjs RUNS 'CMD A' 'CMD B' ...  (each command is
// split on spaces; a run that exits non-zero fails the benchmark, with its output).
import { spawnSync } from 'node:child_process';

const [runs, ...commands] = process.argv.slice(2);
const once = (cmd) => {
  const [file, ...args] = cmd.split(' ');
  const t = performance.now();
  const r = spawnSync(file, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const ms = performance.now() - t;
  if (r.status !== 0) {
    process.stderr.write(`${cmd} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
  return ms;
};
for (const c of commands) once(c);
const times = commands.map(() => []);
for (let i = 0; i < Number(runs); i++) commands.forEach((c, k) => times[k].push(once(c)));
for (const t of times) console.log(t.sort((a, b) => a - b)[Math.floor(t.length / 2)].toFixed(1));
