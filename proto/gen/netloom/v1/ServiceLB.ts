// Original file: proto/netloom/agent.proto

import type { ServicePort as _netloom_v1_ServicePort, ServicePort__Output as _netloom_v1_ServicePort__Output } from '../../netloom/v1/ServicePort';
import type { ServiceProvider as _netloom_v1_ServiceProvider, ServiceProvider__Output as _netloom_v1_ServiceProvider__Output } from '../../netloom/v1/ServiceProvider';

export interface ServiceLB {
  'key'?: (string);
  'tenant'?: (string);
  'network'?: (string);
  'ip'?: (string);
  'ports'?: (_netloom_v1_ServicePort)[];
  'providers'?: (_netloom_v1_ServiceProvider)[];
  'kube'?: (boolean);
  'externalTrafficLocal'?: (boolean);
}

export interface ServiceLB__Output {
  'key': (string);
  'tenant': (string);
  'network': (string);
  'ip': (string);
  'ports': (_netloom_v1_ServicePort__Output)[];
  'providers': (_netloom_v1_ServiceProvider__Output)[];
  'kube': (boolean);
  'externalTrafficLocal': (boolean);
}
