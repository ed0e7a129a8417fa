/**
 * Who listens on a TCP port, read from the kernel's tables as `ss -ltnp sport = :PORT` reads them,
 * without running it: the listening sockets of this network namespace from /proc/net/tcp and
 * /proc/net/tcp6 (state 0A, LISTEN), and the processes holding each one from the
 * `socket:[inode]` links in /proc/PID/fd. As with ss, a process this user may not look into (not
 * root) holds its sockets unseen.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A process holding a socket: its pid, its name (as ss shows it) and its program (/proc/PID/exe). */
export interface SocketHolder {
  pid: number;
  comm: string;
  /** The program it runs; without " (deleted)" when the file was replaced since. */
  exe?: string;
}

/** A listening socket and the processes that hold it (in pid order; empty when none could be seen). */
export interface Listener {
  inode: string;
  holders: SocketHolder[];
}

const LISTEN = '0A';

/**
 * The inodes of the sockets listening on `port` in one /proc/net/tcp or tcp6 table:
 * `sl local_address rem_address st ... uid timeout inode`, addresses as HEXADDR:HEXPORT.
 */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const localPort = Number.parseInt(f[1]!.slice(f[1]!.lastIndexOf(':') + 1), 16);
    if (localPort === port && f[9] !== '0') inodes.push(f[9]!);
  }
  return inodes;
}

const readOr = (file: string, fallback: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

const list = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

const exeOf = (pid: number) => {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
};

/**
 * The sockets listening on `port` (IPv4 and IPv6) with their holders. The processes whose program
 * `preferred` accepts are looked into first, and a socket one of them holds is settled: its
 * other holders are not searched for. Only when a socket is left unsettled is the rest of /proc
 * read (every process's descriptors), to name all its holders in pid order.
 */
export function tcpListeners(port: number, preferred: (exe: string | undefined) => boolean = () => false): Listener[] {
  const inodes = [...new Set(['/proc/net/tcp', '/proc/net/tcp6'].flatMap((t) => listeningInodes(readOr(t, ''), port)))];
  const sockets = new Map(inodes.map((inode) => [`socket:[${inode}]`, { inode, holders: [] as SocketHolder[], settled: false }]));
  if (!sockets.size) return [];
  const pids = list('/proc').filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  const exes = new Map(pids.map((pid) => [pid, exeOf(pid)]));
  const lookInto = (pid: number, settles: boolean) => {
    const fdDir = `/proc/${pid}/fd`;
    for (const fd of list(fdDir)) {
      let target: string;
      try {
        target = readlinkSync(`${fdDir}/${fd}`);
      } catch {
        continue;
      }
      const socket = sockets.get(target);
      if (!socket || socket.holders.some((h) => h.pid === pid)) continue;
      socket.holders.push({ pid, comm: readOr(`/proc/${pid}/comm`, '').trim() || 'unknown process', exe: exes.get(pid) });
      if (settles) socket.settled = true;
    }
  };
  const first = pids.filter((pid) => preferred(exes.get(pid)));
  for (const pid of first) lookInto(pid, true);
  if ([...sockets.values()].some((s) => !s.settled)) for (const pid of pids) if (!first.includes(pid)) lookInto(pid, false);
  return [...sockets.values()].map(({ inode, holders }) => ({ inode, holders }));
}
