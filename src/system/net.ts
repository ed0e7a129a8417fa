/**
 * Sockets and requests: the only code that opens a connection or listens (SMTP clients: smtp-client.ts).
 * Callers decide what to say and what the answer means; these only open the channel.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/** A TCP connection (checks that a port answers, and from which address). */
export const tcpConnect = (o: net.NetConnectOpts): net.Socket => net.connect(o);

/** A TCP listener (the verify sink that stands in for a remote MTA). */
export const tcpServer = (onConnection: (socket: net.Socket) => void): net.Server => net.createServer(onConnection);

/** An HTTP(S) GET of `url` (downloads from a mirror). */
export const httpGet = (url: URL, o: https.RequestOptions): http.ClientRequest =>
  url.protocol === 'https:' ? https.get(url, o) : http.get(url, o as http.RequestOptions);

/** An HTTPS request (the MTA-STS policy fetch). */
export const httpsRequest = (o: https.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest =>
  https.request(o, onResponse);
