/**
 * SPF evaluation from inside the lab (run by the TLS drill as a child process in the client's
 * namespace), with mailauth's SPF implementation and the lab's DNS server as resolver: an
 * answer independent of whether this Exim build has SPF support.
 * Prints one JSON line: {result, header, explanation}.
 */
import { Resolver } from 'node:dns/promises';
import { spf } from 'mailauth';

interface Job {
  sender: string;
  ip: string;
  helo: string;
  dnsServer: string;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([job.dnsServer]);
  const resolve = (name: string, type: string) => resolver.resolve(name, type as 'TXT') as Promise<unknown[]>;
  const r = await spf({ sender: job.sender, ip: job.ip, helo: job.helo, mta: 'client.lab', resolver: resolve as never });
  process.stdout.write(JSON.stringify({ result: r.status.result, header: r.header, explanation: r.status.comment ?? '' }) + '\n');
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ result: 'error', header: '', explanation: String(err) }) + '\n');
  process.exitCode = 1;
});
