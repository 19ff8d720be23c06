/**
 * `netloom-lab run -p [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]`, as docker and podman spell it,
 * turned into the CNI `portMappings` capability argument the lab hands the shim in runtimeConfig.
 */
import { NetloomError } from '../../lib/errors';

export interface LabPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

const SPEC = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/;

/** One `-p` value (pure); INVALID_ARGUMENT naming `publish` when it is not one. */
export function parsePublish(spec: string): LabPortMapping {
  const m = SPEC.exec(spec);
  const port = (s: string | undefined): number | undefined => {
    const n = Number(s);
    return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
  };
  const hostPort = port(m?.[2]);
  const containerPort = port(m?.[3]);
  if (!m || hostPort === undefined || containerPort === undefined) {
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `-p "${spec}" must be [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp] with ports 1..65535, like 8080:80 or 10.213.1.1:5353:53/udp`,
      { field: 'publish' },
    );
  }
  const protocol = m[4] === 'udp' ? 'udp' : 'tcp';
  return { hostPort, containerPort, protocol, ...(m[1] ? { hostIP: m[1] } : {}) };
}
