import net from 'node:net';

/**
 * Whether an SMTP server answers on host:port with a 220 greeting. Used after a reload: a pid
 * that still exists (a zombie not yet reaped, say) proves less than a daemon that greets.
 */
export async function smtpGreeting(host: string, port: number, timeoutMs = 3000): Promise<string | undefined> {
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
      data += chunk.toString('utf8');
      const line = /^(\d{3})[ -][^\r\n]*\r?\n/.exec(data);
      if (line) done(line[1] === '220' ? line[0].trim() : undefined);
    });
  });
}

/** Polls until the server greets or the time is up. */
export async function waitForGreeting(host: string, port: number, timeoutMs = 5000): Promise<string | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const greeting = await smtpGreeting(host, port, Math.max(500, Math.min(2000, end - Date.now())));
    if (greeting || Date.now() >= end) return greeting;
    await new Promise((r) => setTimeout(r, 200));
  }
}
