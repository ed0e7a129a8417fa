#!/usr/bin/env node
// Small SMTP tools for the container smoke run (scripts/container/smoke.sh), independent of
// labctl's own code so that they judge it from outside:
//   smtp.mjs mail HOST PORT FROM               plaintext EHLO + MAIL; prints the MAIL reply
//   smtp.mjs send HOST PORT FROM TO MSGID      a plaintext message; exit 0 when it is accepted
//   smtp.mjs sink ADDRESS PORT FILE            accepts one message into FILE, then exits
//   smtp.mjs dkim FILE DNS_JSON                verifies FILE's DKIM signature (mailauth) against
//                                              the records of `labctl dns --json`
import fs from 'node:fs';
import net from 'node:net';

const [command, ...args] = process.argv.slice(2);

/** A plaintext SMTP client: say(line) sends and resolves with the whole reply. */
function connect(host, port) {
  const socket = net.connect({ host, port: Number(port) });
  socket.setTimeout(15_000, () => socket.destroy(new Error('timed out')));
  let buffer = '';
  let waiting;
  const replies = [];
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    let m;
    // A reply ends with a line "NNN text" (a space after the code, not a dash).
    while ((m = /^((?:\d{3}-[^\r\n]*\r?\n)*\d{3}(?: [^\r\n]*)?)\r?\n/.exec(buffer))) {
      buffer = buffer.slice(m[0].length);
      replies.push(m[1]);
      if (waiting) waiting();
    }
  });
  const next = () =>
    new Promise((resolve, reject) => {
      if (replies.length) return resolve(replies.shift());
      waiting = () => ((waiting = undefined), resolve(replies.shift()));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('connection closed')));
    });
  return {
    greeting: next(),
    say: (line) => (socket.write(`${line}\r\n`), next()),
    close: () => socket.end('QUIT\r\n'),
  };
}

const code = (reply) => Number(reply.slice(0, 3));

async function mail([host, port, from]) {
  const c = connect(host, port);
  await c.greeting;
  await c.say('EHLO smoke.test');
  const reply = await c.say(`MAIL FROM:<${from}>`);
  console.log(reply);
  c.close();
}

async function send([host, port, from, to, messageId]) {
  const c = connect(host, port);
  const steps = [
    [undefined, 220],
    ['EHLO smoke.test', 250],
    [`MAIL FROM:<${from}>`, 250],
    [`RCPT TO:<${to}>`, 250],
    ['DATA', 354],
    [[`From: <${from}>`, `To: <${to}>`, `Subject: container smoke ${messageId}`, `Message-ID: <${messageId}>`, `Date: ${new Date().toUTCString()}`, '', 'Sent by scripts/container/smtp.mjs.', '.'].join('\r\n'), 250],
  ];
  for (const [line, want] of steps) {
    const reply = line === undefined ? await c.greeting : await c.say(line);
    console.log(`${line === undefined ? '' : `-> ${line.split('\r\n')[0]}\n`}<- ${reply}`);
    if (code(reply) !== want) {
      c.close();
      process.exitCode = 1;
      return;
    }
  }
  c.close();
}

function sink([address, port, file]) {
  const server = net.createServer((socket) => {
    let buffer = '';
    let data;
    const reply = (s) => socket.write(`${s}\r\n`);
    reply('220 smoke sink');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let nl;
      while ((nl = buffer.indexOf('\r\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (data) {
          if (line !== '.') data.push(line.startsWith('..') ? line.slice(1) : line);
          else {
            fs.writeFileSync(file, data.join('\r\n') + '\r\n');
            data = undefined;
            reply('250 stored');
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') reply('250 smoke sink');
        else if (verb === 'DATA') (data = []), reply('354 go ahead');
        else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
          if (fs.existsSync(file)) server.close();
        } else reply('250 OK');
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(Number(port), address, () => console.log(`sink listening on ${address}:${port}`));
}

async function dkim([file, dnsJson]) {
  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
  const { records } = JSON.parse(fs.readFileSync(dnsJson, 'utf8'));
  const resolver = async (name, type) => {
    const hits = records.filter((r) => r.name.toLowerCase() === name.replace(/\.$/, '').toLowerCase() && r.type === type);
    if (!hits.length) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return hits.map((r) => r.strings ?? [r.value]);
  };
  const result = await dkimVerify(fs.readFileSync(file), { resolver });
  for (const r of result.results) console.log(r.info);
  if (result.results[0]?.status?.result !== 'pass') process.exitCode = 1;
}

const commands = { mail, send, sink, dkim };
if (!commands[command]) {
  console.error('usage: smtp.mjs mail|send|sink|dkim ...');
  process.exit(2);
}
await commands[command](args);
