#!/usr/bin/env node
// The container smoke run's only way out (run by scripts/container/run.sh on the host).
//
//   node egress.mjs DIR HOST...
//
// Listens on two unix sockets that run.sh binds into the container, where systemd-socket-proxyd
// serves them as 127.0.0.1:80 and 127.0.0.1:443 and /etc/hosts points the allowed names there:
//   DIR/http.sock  plain HTTP: each request must be GET or HEAD for an allowed Host (port 80); it
//                  is forwarded to that host and the answer passed back;
//   DIR/tls.sock   TLS: the ClientHello's server name (SNI) must be an allowed host; the bytes are
//                  then passed through to that host's port 443 unchanged (TLS stays end to end).
// Everything else is refused and logged. The host's network namespace, routes and firewall are
// not touched: this is an ordinary client process of the host. Logs one line per connection to
// stdout; run.sh keeps it and prints the refusals.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const [dir, ...hosts] = process.argv.slice(2);
if (!dir || !hosts.length) {
  console.error('usage: egress.mjs DIR HOST...');
  process.exit(2);
}
const allowed = new Set(hosts.map((h) => h.toLowerCase()));
const log = (line) => console.log(`${new Date().toISOString()} ${line}`);

/** The host name a plain HTTP request is for, if it is an allowed host on port 80. */
function httpTarget(req) {
  const m = /^([a-z0-9.-]+)(?::(\d+))?$/i.exec(req.headers.host ?? '');
  if (!m || (m[2] && m[2] !== '80')) return undefined;
  return allowed.has(m[1].toLowerCase()) ? m[1].toLowerCase() : undefined;
}

const httpServer = http.createServer((req, res) => {
  const host = httpTarget(req);
  const what = `${req.method} http://${req.headers.host ?? '?'}${req.url}`;
  if (!host || !['GET', 'HEAD'].includes(req.method) || !req.url.startsWith('/')) {
    log(`refused ${what}`);
    res.writeHead(403, { 'content-type': 'text/plain' }).end('refused by the container egress: GET or HEAD to an allowed host only\n');
    return;
  }
  log(`allowed ${what}`);
  const headers = { ...req.headers };
  delete headers['proxy-connection'];
  const upstream = http.request({ host, port: 80, method: req.method, path: req.url, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.rawHeaders);
    up.pipe(res);
  });
  upstream.on('error', (err) => {
    log(`error ${what}: ${err.message}`);
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`${err.message}\n`);
    else res.destroy();
  });
  req.pipe(upstream);
});

/**
 * The server name of a TLS ClientHello (RFC 8446 4.1.2, RFC 6066 3), or undefined when the buffer
 * holds a whole first record without one, or null when more bytes are needed.
 */
export function serverName(buf) {
  if (buf.length < 5) return null;
  if (buf[0] !== 0x16) return undefined; // not a handshake record
  const recordEnd = 5 + buf.readUInt16BE(3);
  if (buf.length < recordEnd) return null;
  let p = 5;
  if (buf[p] !== 0x01) return undefined; // not a ClientHello
  p += 4 + 2 + 32; // handshake header, client version, random
  p += 1 + buf[p]; // session id
  p += 2 + buf.readUInt16BE(p); // cipher suites
  p += 1 + buf[p]; // compression methods
  if (p + 2 > recordEnd) return undefined;
  const extensionsEnd = Math.min(recordEnd, p + 2 + buf.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extensionsEnd) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (type === 0x0000) {
      // server_name_list: length, then entries of (type, length, name); type 0 is host_name
      let q = p + 2;
      while (q + 3 <= p + len) {
        const nameLen = buf.readUInt16BE(q + 1);
        if (buf[q] === 0) return buf.subarray(q + 3, q + 3 + nameLen).toString('ascii').toLowerCase();
        q += 3 + nameLen;
      }
      return undefined;
    }
    p += len;
  }
  return undefined;
}

const tlsServer = net.createServer((client) => {
  let buf = Buffer.alloc(0);
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    const name = buf.length > 16 * 1024 + 5 ? undefined : serverName(buf);
    if (name === null) return;
    client.off('data', onData);
    client.pause();
    if (!name || !allowed.has(name)) {
      log(`refused TLS to ${name ?? '(no server name)'}`);
      client.destroy();
      return;
    }
    log(`allowed TLS to ${name}:443`);
    client.setTimeout(0);
    const upstream = net.connect({ host: name, port: 443 }, () => {
      upstream.write(buf);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', (err) => {
      log(`error TLS to ${name}: ${err.message}`);
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  client.on('data', onData);
  client.on('error', () => client.destroy());
  client.setTimeout(30_000, () => {
    if (!buf.length || serverName(buf) === null) client.destroy();
  });
});

async function listen(server, file) {
  fs.rmSync(file, { force: true });
  await new Promise((resolve, reject) => server.once('error', reject).listen(file, resolve));
  fs.chmodSync(file, 0o600);
}

await listen(httpServer, path.join(dir, 'http.sock'));
await listen(tlsServer, path.join(dir, 'tls.sock'));
log(`listening in ${dir} for ${[...allowed].join(' ')}`);
const stop = () => {
  httpServer.close();
  tlsServer.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
