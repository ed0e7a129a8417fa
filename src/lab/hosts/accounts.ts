import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { LocalAccounts, UserChange } from '../../system/accounts.js';
import { ensureDir, setMode } from '../../system/files.js';
import { NETNS_ETC, readNamespaceEtc, writeNamespaceEtc } from '../../system/netns.js';
import { labPaths, names, type LabMailHostSpec, type LabSpec } from '../topology.js';

/**
 * The local users of a lab host, as its view sees them: /etc/passwd and /etc/group are the
 * host's /etc/netns files (the machine's own entries plus the host's users), /home is the
 * host's home directory. configure's users step (src/config/steps/users.ts) makes them here.
 */
export interface LabUser {
  name: string;
  uid: number;
  gid: number;
}

/** First uid/gid of lab users; each host gets a block of ten, far from system and login ids. */
const LAB_UID_BASE = 41400;

export function labUsers(spec: LabSpec, host: LabMailHostSpec): LabUser[] {
  const index = spec.hosts.findIndex((h) => h.name === host.name);
  return host.users.map((name, j) => ({ name, uid: LAB_UID_BASE + index * 10 + j, gid: LAB_UID_BASE + index * 10 + j }));
}

const hasEntry = (text: string, name: string) => text.split('\n').some((l) => l.split(':')[0] === name);
const withLine = (text: string, line: string) => `${text.replace(/\n*$/, '\n')}${line}\n`;
const isDir = (p: string) => fs.stat(p).then((s) => s.isDirectory(), () => false);

/** The host's /etc/<name> as its view reads it: its own file, else the machine's (which the view shows until it has one). */
async function viewEtc(ns: string, name: 'passwd' | 'group'): Promise<string> {
  return (await readNamespaceEtc(ns, name)) ?? fs.readFile(path.join('/etc', name), 'utf8');
}

export function labAccounts(spec: LabSpec, host: LabMailHostSpec): LocalAccounts {
  const ns = names.hostNs(host.name);
  const home = (name: string) => path.join(labPaths.host(host.name).home, name);
  return {
    how: `${NETNS_ETC}/${ns}/passwd, home in ${labPaths.host(host.name).home}`,
    async ready(name) {
      // Read-only: the host's own passwd (the machine's is not the view's until the host has one).
      const passwd = await readNamespaceEtc(ns, 'passwd');
      return passwd !== undefined && hasEntry(passwd, name) && (await isDir(home(name)));
    },
    async ensure(name): Promise<UserChange> {
      const u = labUsers(spec, host).find((x) => x.name === name);
      if (!u) throw new LabError(`${host.name}: ${name} is not a user of this lab host`);
      let change: UserChange = 'ok';
      const [passwd, group] = [await viewEtc(ns, 'passwd'), await viewEtc(ns, 'group')];
      const own = await readNamespaceEtc(ns, 'passwd');
      if (own === undefined || !hasEntry(passwd, name)) {
        // A name the machine already has keeps the machine's entry (as the view showed it before).
        await writeNamespaceEtc(ns, {
          passwd: hasEntry(passwd, name) ? passwd : withLine(passwd, `${name}:x:${u.uid}:${u.gid}:labctl lab user:/home/${name}:/bin/sh`),
          group: hasEntry(group, name) ? group : withLine(group, `${name}:x:${u.gid}:`),
        });
        change = 'created';
      }
      // A local user needs a home directory in the host's view, or routing defers.
      const hadHome = await isDir(home(name));
      await ensureDir(home(name), 0o750);
      await setMode(home(name), 0o750, { uid: u.uid, gid: u.gid });
      return change === 'ok' && !hadHome ? 'home-created' : change;
    },
  };
}
