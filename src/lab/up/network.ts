import { addBridge, addNamespace, connectToBridge, inNamespace, linkExists, namespaceExists, writeNamespaceEtc } from '../../system/netns.js';
import { unknownOutcome, type Step } from '../../steps/types.js';
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
      const missing = [];
      for (const m of [{ ns: names.switchNs }, ...members(spec)]) if (!(await namespaceExists(m.ns))) missing.push(`namespace ${m.ns}`);
      if (!missing.includes(`namespace ${names.switchNs}`)) {
        const bridge = await linkExists(names.switchNs, names.bridge);
        if (bridge === undefined) return unknownOutcome(`cannot look into ${names.switchNs} for the bridge ${names.bridge} (entering a namespace needs root)`);
        if (!bridge) missing.push(`bridge ${names.bridge}`);
      }
      return missing.length ? { done: false, detail: `${detail}: would make ${missing.join(', ')}` } : { done: true, detail };
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
