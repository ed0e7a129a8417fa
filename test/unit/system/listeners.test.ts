/**
 * Listeners read from /proc (src/system/listeners.ts), as `ss -ltnp sport = :PORT` shows them:
 * the table parser on lines as the kernel writes them, then a real listening socket of this
 * process, found with its holder as ss finds it.
 */
import net from 'node:net';
import { realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listeningInodes, tcpListeners } from '../../../src/system/listeners.js';
import { run } from '../../../src/system/run.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const TCP = [
  HEADER,
  '   0: 00000000:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3635961 1 00000000ff8a470c 100 0 0 10 20',
  '   1: 0100007F:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3635970 1 00000000ff8a470c 100 0 0 10 20',
  '   2: 00000000:01D1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3635962 1 0000000060b7af69 100 0 0 10 20',
  // An established connection from port 25 is no listener.
  '   3: 0100007F:0019 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 3635999 1 0000000060b7af69 100 0 0 10 20',
].join('\n');
const TCP6 = [
  HEADER,
  '   0: 00000000000000000000000000000000:0019 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4000001 1 0000000000000000 100 0 0 10 0',
].join('\n');

describe('listening sockets from /proc/net/tcp and tcp6', () => {
  it('takes the LISTEN lines on the port, IPv4 and IPv6, and nothing else', () => {
    expect(listeningInodes(TCP, 25)).toEqual(['3635961', '3635970']);
    expect(listeningInodes(TCP6, 25)).toEqual(['4000001']);
    expect(listeningInodes(TCP, 465)).toEqual(['3635962']);
    expect(listeningInodes(TCP, 587)).toEqual([]);
    expect(listeningInodes(HEADER, 25)).toEqual([]);
  });

  it('finds a real listener and its holder (this process), as ss -ltnp does', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const found = tcpListeners(port);
      expect(found).toHaveLength(1);
      expect(found[0]!.holders.map((h) => h.pid)).toContain(process.pid);
      const me = found[0]!.holders.find((h) => h.pid === process.pid)!;
      expect(me.exe).toBe(realpathSync(process.execPath));
      // ss names the same process; it lists users only for processes this user may look into.
      const ss = await run('ss', ['-H', '-ltnp', `sport = :${port}`]);
      expect(ss.stdout).toContain(`pid=${process.pid},`);
      // ss reads the name from /proc/PID/stat up to its first ')': "node (vitest 1" for "node (vitest 1)".
      const ssName = /users:\(\("([^"]+)",pid=/.exec(ss.stdout)?.[1];
      expect(ssName && me.comm.startsWith(ssName), `${ssName} / ${me.comm}`).toBe(true);
      // A preferred holder settles the socket: the same answer.
      expect(tcpListeners(port, (exe) => exe === me.exe)[0]!.holders.map((h) => h.pid)).toContain(process.pid);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(tcpListeners(port)).toEqual([]);
  });
});
