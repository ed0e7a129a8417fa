import type { Step } from '../../steps/types.js';
import type { LabSpec } from '../topology.js';
import type { UpContext } from './context.js';
import { daemonStep } from './daemon.js';
import { dnsStep } from './dns.js';
import { hostStep } from './host.js';
import { networkStep } from './network.js';
import { resolverStep } from './resolver.js';
import { webStep } from './web.js';

/**
 * `lab up` as a list of steps, one file each: the network, each host's view and configuration,
 * the DNS server, the validating resolver, each host's MTA-STS web server, each Exim daemon.
 * A new lab step is a file here and a line in this list.
 */
export function labUpSteps(spec: LabSpec): Step<UpContext>[] {
  return [
    networkStep(spec),
    ...spec.hosts.map((h) => hostStep(spec, h)),
    dnsStep(spec),
    resolverStep(spec),
    ...spec.hosts.map((h) => webStep(spec, h)),
    ...spec.hosts.map((h) => daemonStep(spec, h)),
  ];
}
