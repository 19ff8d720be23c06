/** The --kubeconfig value that means "the service account of the pod this runs in" (kept apart from kubeconfig.ts so that naming it loads no Kubernetes client). */
export const IN_CLUSTER = 'in-cluster';
