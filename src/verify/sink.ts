import type net from 'node:net';
import { tcpServer } from '../system/net.js';

/**
 * The receiving end for the DKIM check: Exim's own smtp transport signs a message and delivers
 * it here, so what mailauth verifies is exactly what Exim sent. It accepts one message and
 * nothing more; labctl never runs it as a mail server. (nodemailer has no server side, and the
 * only thing needed is EHLO/MAIL/RCPT/DATA/QUIT answered with success.)
 */
export interface Sink {
  port: number;
  /** Resolves with the message (dot-unstuffed, CRLF) when DATA ends. */
  message: Promise<string>;
  close(): void;
}

export function startSink(address: string, signal?: AbortSignal, port = 0): Promise<Sink> {
  let deliver!: (m: string) => void;
  let reject!: (e: Error) => void;
  const message = new Promise<string>((res, rej) => ((deliver = res), (reject = rej)));
  message.catch(() => undefined);
  const sockets = new Set<net.Socket>();
  const server = tcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    let data: string[] | undefined;
    const reply = (s: string) => socket.write(`${s}\r\n`);
    reply('220 labctl-verify DKIM probe');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let nl: number;
      while ((nl = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (data) {
          if (line === '.') {
            deliver(data.join('\r\n') + '\r\n');
            data = undefined;
            reply('250 OK accepted by labctl verify');
          } else data.push(line.startsWith('..') ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') reply('250-labctl-verify\r\n250 8BITMIME');
        else if (verb === 'DATA') {
          data = [];
          reply('354 go ahead');
        } else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else reply('250 OK');
      }
    });
  });
  const close = () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  signal?.addEventListener('abort', () => (reject(new Error('stopped')), close()), { once: true });
  return new Promise((resolve, fail) => {
    server.once('error', fail);
    server.listen(port, address, () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ port, message, close });
    });
  });
}
