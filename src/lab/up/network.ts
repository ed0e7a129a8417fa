import { addBridge, addNamespace, connectToBridge, inNamespace, namespaceExists, writeNamespaceEtc } from '../../system/netns.js';
import type { Step } from '../../steps/types.js';
import { resolvConf } from '../services/unbound.js';
import { members, names, prefixLength, type LabSpec } from '../topology.js';
import type { UpContext } from './context.js';

/** `lab up`'s first step: a namespace per lab member on one bridge, each with its address. */
export function networkStep(spec: LabSpec): Step<UpContext> {
  const detail = `${members(spec).length} hosts on ${spec.subnet}`;
  return {
    id: 'network',
    title: 'namespaces, bridge, addresses',
    async check() {
      const present = await Promise.all(members(spec).map((m) => namespaceExists(m.ns)));
      return { done: present.every(Boolean), detail };
    },
    async apply() {
      await buildNetwork(spec);
      return { detail };
    },
  };
}

async function buildNetwork(spec: LabSpec): Promise<void> {
  await addNamespace(names.switchNs);
  await addBridge(names.switchNs, names.bridge);
  for (const m of members(spec)) {
    await addNamespace(m.ns);
    await connectToBridge({
      switchNs: names.switchNs,
      bridge: names.bridge,
      switchSide: names.switchPort(m.name),
      hostNs: m.ns,
      hostSide: names.hostIf,
      cidr: `${m.address}/${prefixLength(spec)}`,
    });
  }
  // The validating resolver has an address of its own beside BIND's, in the DNS namespace.
  await inNamespace(names.dnsNs, 'ip', ['addr', 'add', `${spec.resolverAddress}/${prefixLength(spec)}`, 'dev', names.hostIf]);
  // The client only needs a resolver; mail hosts get theirs with the rest of their view.
  await writeNamespaceEtc(names.clientNs, { 'resolv.conf': resolvConf(spec) });
}
