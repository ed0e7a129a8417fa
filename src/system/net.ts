import net from 'node:net';

/** Connects to host:port and returns the SMTP greeting line, or undefined if nothing answers. */
export function readBanner(host: string, port: number, timeoutMs = 3000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let data = '';
    const done = (value: string | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\n')) {
        socket.write('QUIT\r\n');
        done(data.split('\r\n')[0]);
      }
    });
  });
}

export async function waitForBanner(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const banner = await readBanner(host, port, 1000);
    if (banner || Date.now() > end) return banner;
    await new Promise((r) => setTimeout(r, 100));
  }
}
