/** `netloom-lab kube HOST run-pod|rm-pod|pods|exec|gc`: pods by hand through a lab host's containerd CRI. */
import { Command, Option } from 'commander';
import YAML from 'yaml';
import { parseLabelPairs } from '../../lib/labels';
import { formatTable } from '../../lib/table';
import type { ContainerPort } from './cri/kubelet';
import { LAB_IMAGES, type LabImageName } from './cri/images';
import { labKubeExec, labKubeGc, labKubePods, labKubeRmPod, labKubeRunPod, parseKeyValues, parsePortSpec, podRef } from './kube';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The `kube HOST` sub-commands, for `lab` (a function: the global --lab is read when they run). */
export function kubeCommands(host: string, lab: () => string): Command {
  const kube = new Command(`netloom-lab kube ${host}`)
    .description(`pods on ${host} through its containerd's CRI`)
    .enablePositionalOptions()
    .showHelpAfterError();
  kube.exitOverride();

  kube
    .command('run-pod')
    .description(
      'run a pod the way the kubelet does (RunPodSandbox: netloom-cni gives it its network; then its container); prints NAMESPACE/NAME HOST IP SANDBOX',
    )
    .argument('<name>', 'pod name (DNS-1123)')
    .option('-n, --namespace <ns>', 'Kubernetes namespace', 'default')
    .option('--label <key=value>', 'a pod label (repeatable)', collect, [])
    .option('--annotation <key=value>', 'a pod annotation (repeatable)', collect, [])
    .option(
      '--port <spec>',
      'a container port [NAME:]PORT[/TCP|UDP|SCTP][:HOSTPORT] (repeatable); agnhost serves TCP and UDP on each; HOSTPORT publishes it on the host',
      (v: string, prev: ContainerPort[] = []) => [...prev, parsePortSpec(v)],
    )
    .addOption(new Option('--image <image>', 'the container image').choices(Object.keys(LAB_IMAGES)).default('agnhost'))
    .action(
      async (
        name: string,
        o: { namespace: string; label: string[]; annotation: string[]; port?: ContainerPort[]; image: LabImageName },
      ) => {
        const p = await labKubeRunPod({
          labName: lab(),
          host,
          name,
          namespace: o.namespace,
          labels: parseLabelPairs(o.label, '--label'),
          annotations: parseKeyValues(o.annotation, '--annotation'),
          ports: o.port ?? [],
          image: o.image,
        });
        process.stdout.write(`${p.namespace}/${p.name}\t${p.host}\t${p.ip}\t${p.sandboxId}\n`);
      },
    );

  kube
    .command('rm-pod')
    .description('stop (StopPodSandbox: CNI DEL) and remove (RemovePodSandbox) a pod')
    .argument('<pods...>', 'NAME or NAMESPACE/NAME')
    .option('-n, --namespace <ns>', 'Kubernetes namespace of plain names', 'default')
    .option('--grace <seconds>', 'grace period before SIGKILL', '2')
    .action(async (pods: string[], o: { namespace: string; grace: string }) => {
      for (const ref of pods) {
        const r = podRef(ref, o.namespace);
        await labKubeRmPod(lab(), host, r.namespace, r.name, Number(o.grace));
      }
    });

  kube
    .command('pods')
    .description('the pods containerd runs on the host: sandbox state, address, containers')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .action(async (o: { output: string }) => {
      const pods = await labKubePods(lab(), host);
      if (o.output === 'json') process.stdout.write(`${JSON.stringify(pods, null, 2)}\n`);
      else if (o.output === 'yaml') process.stdout.write(YAML.stringify(pods));
      else
        process.stdout.write(
          `${formatTable(
            ['NAMESPACE', 'NAME', 'STATE', 'IP', 'SANDBOX', 'CONTAINERS'],
            pods.map((p) => [
              p.namespace,
              p.name,
              p.state === 'SANDBOX_READY' ? 'Ready' : 'NotReady',
              p.ip || '-',
              p.sandboxId.slice(0, 13),
              p.containers.map((c) => `${c.name}:${c.state.replace('CONTAINER_', '').toLowerCase()}`).join(',') || '-',
            ]),
          )}\n`,
        );
    });

  kube
    .command('exec')
    .description("run a command in a pod's container (CRI ExecSync); its output and exit code")
    .argument('<pod>', 'NAME or NAMESPACE/NAME')
    .argument('<command...>', 'the command (put -- before it)')
    .option('-n, --namespace <ns>', 'Kubernetes namespace of a plain name', 'default')
    .option('-c, --container <name>', 'container (default: the first)')
    .option('--timeout <seconds>', 'give up after this long', '30')
    .passThroughOptions()
    .action(async (pod: string, command: string[], o: { namespace: string; container?: string; timeout: string }) => {
      const r = podRef(pod, o.namespace);
      const argv = command[0] === '--' ? command.slice(1) : command;
      const out = await labKubeExec(lab(), host, r.namespace, r.name, argv, {
        ...(o.container ? { container: o.container } : {}),
        timeoutSeconds: Number(o.timeout),
      });
      process.stdout.write(out.stdout);
      process.stderr.write(out.stderr);
      process.exitCode = out.exitCode;
    });

  kube
    .command('gc')
    .description(
      "the node's clean-up after a crash: not-ready sandboxes stopped and removed (the kubelet's sync), then CNI GC of the pod network " +
        "with containerd's sandboxes as the valid attachments (containerd 1.6 never sends GC)",
    )
    .action(async () => {
      const r = await labKubeGc(lab(), host);
      for (const id of r.removed) process.stdout.write(`removed not-ready sandbox ${id}\n`);
      for (const x of r.outcomes)
        process.stdout.write(`${x.plugin}\tGC ${x.code === 0 ? 'ok' : `failed (${x.code}): ${x.output}`}\tkept ${r.kept} sandbox(es)\n`);
      if (r.outcomes.some((x) => x.code !== 0)) process.exitCode = 1;
    });

  return kube;
}
