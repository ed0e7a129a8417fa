import http from 'node:http';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

/** Serves a directory on 127.0.0.1 with directory listings, like a plain download mirror. */
export async function serveDirectory(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root)) return res.writeHead(403).end();
    try {
      const st = await fs.stat(file);
      if (st.isDirectory()) {
        const names = await fs.readdir(file);
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end(`<html><body><ul>${names.map((n) => `<li><a href="${n}">${n}</a></li>`).join('')}</ul></body></html>`);
      }
      res.writeHead(200, { 'content-length': st.size });
      res.end(await fs.readFile(file));
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}
