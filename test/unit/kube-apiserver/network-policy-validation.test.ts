import assert from 'node:assert/strict';
import { fieldErrorText } from '../../../tools/kube-apiserver/field-errors';
import type { JsonObject } from '../../../tools/kube-apiserver/json';
import { validateNetworkPolicySpec } from '../../../tools/kube-apiserver/validation/network-policy';

const errors = (spec: JsonObject): string[] => validateNetworkPolicySpec(spec).map(fieldErrorText);
const ingress = (rule: JsonObject): JsonObject => ({ podSelector: {}, ingress: [rule] });

describe("NetworkPolicy validation (kube-apiserver's messages and field paths)", () => {
  it('accepts a policy with every kind of peer and port', () => {
    assert.deepEqual(
      errors({
        podSelector: { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['x'] }] },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [
              { podSelector: {}, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } },
              { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
            ],
            ports: [{ port: 'serve-80' }, { port: 8000, endPort: 8080, protocol: 'UDP' }, { protocol: 'SCTP' }],
          },
        ],
        egress: [{ to: [{ ipBlock: { cidr: 'fd00::/8' } }] }],
      }),
      [],
    );
  });

  it('refuses bad CIDRs, and except entries not strictly inside cidr', () => {
    assert.deepEqual(errors(ingress({ from: [{ ipBlock: { cidr: '10.0.0.0/33' } }] })), [
      'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    assert.deepEqual(errors(ingress({ from: [{ ipBlock: { cidr: '' } }] })), ['spec.ingress[0].from[0].ipBlock.cidr: Required value']);
    assert.deepEqual(
      errors(ingress({ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.0/16', '10.2.0.0/24', 'nope', '10.0.1.0/24'] } }] })),
      [
        'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.0.0.0/16": must be a strict subset of `cidr`',
        'spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "10.2.0.0/24": must be a strict subset of `cidr`',
        'spec.ingress[0].from[0].ipBlock.except[2]: Invalid value: "nope": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      ],
    );
  });

  it('refuses bad ports: protocol, number range, endPort, named-port syntax', () => {
    assert.deepEqual(
      errors(
        ingress({
          ports: [
            { port: 0 },
            { port: 80, endPort: 79 },
            { port: 'http', endPort: 90 },
            { endPort: 90 },
            { protocol: 'ICMP' },
            { port: 70000 },
          ],
        }),
      ),
      [
        'spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
        'spec.ingress[0].ports[1].endPort: Invalid value: 79: must be greater than or equal to `port`',
        'spec.ingress[0].ports[2].endPort: Invalid value: 90: may not be specified when `port` is non-numeric',
        'spec.ingress[0].ports[3].endPort: Invalid value: 90: may not be specified when `port` is not specified',
        'spec.ingress[0].ports[4].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
        'spec.ingress[0].ports[5].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      ],
    );
    assert.deepEqual(
      errors(ingress({ ports: [{ port: 'serve--80' }, { port: 'this-name-is-too-long' }, { port: '80a-' }, { port: 'Http' }] })),
      [
        'spec.ingress[0].ports[0].port: Invalid value: "serve--80": must not contain consecutive hyphens',
        'spec.ingress[0].ports[1].port: Invalid value: "this-name-is-too-long": must be no more than 15 characters',
        'spec.ingress[0].ports[2].port: Invalid value: "80a-": must not begin or end with a hyphen',
        'spec.ingress[0].ports[3].port: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      ],
    );
  });

  it('refuses empty peers, ipBlock with another peer, and bad selectors', () => {
    assert.deepEqual(errors(ingress({ from: [{}, { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] })), [
      'spec.ingress[0].from[0]: Required value: must specify a peer',
      'spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer',
    ]);
    assert.deepEqual(
      errors({
        podSelector: {
          matchLabels: { 'bad key': 'v' },
          matchExpressions: [
            { key: 'a', operator: 'In' },
            { key: 'b', operator: 'Exists', values: ['x'] },
            { key: 'c', operator: 'Like', values: ['x'] },
          ],
        },
      }),
      [
        `spec.podSelector.matchLabels: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
        "spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.podSelector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'spec.podSelector.matchExpressions[2].operator: Invalid value: "Like": not a valid selector operator',
      ],
    );
  });

  it('refuses unknown policyTypes and more than two', () => {
    assert.deepEqual(errors({ podSelector: {}, policyTypes: ['Ingress', 'Sideways'] }), [
      'spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
    ]);
    assert.deepEqual(errors({ podSelector: {}, policyTypes: ['Ingress', 'Egress', 'Ingress'] }), [
      'spec.policyTypes: Invalid value: ["Ingress","Egress","Ingress"]: may not specify more than two policyTypes',
    ]);
  });
});
