/** `netloom-lab`: a lab of simulated hosts on one machine, each a network namespace with its own OVS. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import YAML from 'yaml';
import { errorMessage, NetloomError } from '../../lib/errors';
import { parseLabelPairs } from '../../lib/labels';
import { formatTable } from '../../lib/table';
import { DEFAULT_LAB } from './plan';
import { requireState, withLabLock } from './state';
import { labRm, labRun } from './containers';
import { labDocker, labPodman, restartDockerd } from './engines';
import { restartContainerd } from './containerd';
import { kubeCommands } from './kube-cli';
import { parsePublish, type LabPortMapping } from './publish';
import { labKubeconfig } from './kube-api';
import { labSwarmDown, labSwarmPlugin, labSwarmUp } from './swarm';
import { restartKubelet } from './kubelets';
import {
  findHost,
  labAttach,
  labDetach,
  labDown,
  labStartNetmaster,
  labStopNetmaster,
  labRestartNetmaster,
  labRestartNetplugin,
  labRestartOvs,
  labStatus,
  labUp,
  LabStatus,
  resolveTarget,
} from './lab';

function intArg(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

const progress = (msg: string): void => {
  process.stderr.write(`[netloom-lab] ${msg}\n`);
};

/** commander's reducer for a repeatable option */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function labName(cmd: Command): string {
  return (cmd.optsWithGlobals() as { lab: string }).lab;
}

function printStatus(s: LabStatus): void {
  const out: string[] = [];
  out.push(`lab ${s.name}${s.complete ? '' : ' (INCOMPLETE: run down, then up)'}`);
  out.push(
    `underlay ${s.underlay.netns}: mgmt ${s.underlay.mgmtSubnet} (root ${s.underlay.rootIp}), data ${s.underlay.dataSubnet}; tor ${s.tor.netns} ${s.tor.dataIp}`,
  );
  out.push('');
  out.push(
    formatTable(
      ['HOST', 'NETNS', 'MGMT IP', 'DATA IP', 'OVSDB', 'VSWITCHD', 'HEALTH', 'OVS RUNDIR'],
      s.hosts.map((h) => [
        h.name,
        h.netns,
        h.mgmtIp,
        h.dataIp,
        h.pids.ovsdbServer ?? '-',
        h.pids.ovsVswitchd ?? '-',
        h.healthy ? 'ok' : 'DOWN',
        h.ovsRunDir,
      ]),
    ),
  );
  const bird = s.tor.bird;
  if (bird) {
    out.push('');
    out.push(`tor BIRD ${bird.pid ?? '-'} ${bird.healthy ? 'ok' : 'DOWN'}: route reflector, AS ${bird.as}, ${bird.config}`);
    out.push(
      formatTable(
        ['BGP SESSION', 'HOST', 'NEIGHBOR', 'AS', 'STATE', 'INFO'],
        bird.sessions.map((x) => [x.protocol, x.host, x.address, x.as, x.state || '-', x.info || '-']),
      ),
    );
  }
  const agents = s.hosts.filter((h) => h.agent);
  if (agents.length > 0) {
    out.push('');
    out.push(
      formatTable(
        ['AGENT', 'PID', 'HEALTH', 'NETMASTER', 'DOCKERD', 'CONTAINERD', 'CNI SOCKET', 'LOG'],
        agents.map((h) => [
          `${h.name}/netplugin`,
          h.agent?.pid ?? '-',
          h.agent?.ready ? 'ready' : 'NOT READY',
          h.agent?.netmasterGrpc ?? '',
          h.agent?.dockerd ?? '-',
          h.agent?.containerd ?? '-',
          h.agent?.cniSocket ?? '',
          h.agent?.log ?? '',
        ]),
      ),
    );
  }
  if (s.containers.length > 0) {
    out.push('');
    out.push(
      formatTable(
        ['CONTAINER', 'HOST', 'NETNS', 'IP', 'TENANT/NETWORK', 'VLAN'],
        s.containers.map((c) => [c.name, c.host, c.netns, c.ip, c.tenant ? `${c.tenant}/${c.network ?? ''}` : '-', c.vlan ?? '-']),
      ),
    );
  }
  out.push('');
  out.push(
    formatTable(
      ['ETCD', 'PID', 'ENDPOINT', 'HEALTH'],
      s.etcd.members.map((m) => [m.name, m.pid ?? '-', m.endpoint, m.healthy ? 'ok' : 'DOWN']),
    ),
  );
  if (s.netmasters.length > 0) {
    out.push('');
    out.push(
      formatTable(
        ['NETMASTER', 'PID', 'URL', 'HEALTH'],
        s.netmasters.map((m) => [m.name, m.pid ?? '-', m.url, m.healthy ? 'ok' : 'DOWN']),
      ),
    );
  }
  if (s.kubeApi) {
    out.push('');
    out.push(
      formatTable(
        ['KUBERNETES API', 'PID', 'URL', 'HEALTH', 'KUBECONFIG'],
        [['kube-apiserver', s.kubeApi.pid ?? '-', s.kubeApi.url, s.kubeApi.healthy ? 'ok' : 'DOWN', s.kubeApi.kubeconfig]],
      ),
    );
  }
  if (s.kubelets) {
    out.push('');
    out.push(
      formatTable(
        ['KUBELET', 'PID', 'NODE', 'LOG'],
        s.kubelets.map((k) => [`${k.host}/kubelet`, k.pid ?? '-', k.ready ? 'Ready' : 'NOT READY', k.log]),
      ),
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

export function buildCli(): Command {
  const program = new Command('netloom-lab')
    .description(
      'A lab of simulated netloom hosts on one machine: each host a network namespace with its own Open vSwitch, joined by an underlay',
    )
    .option('--lab <name>', 'lab name (several labs can coexist)', process.env.NETLOOM_LAB ?? DEFAULT_LAB)
    .enablePositionalOptions()
    .showHelpAfterError();

  program
    .command('up')
    .description('create the underlay, the tor, N hosts with OVS, and an etcd cluster (keeps a healthy lab of the same shape)')
    .option('--hosts <n>', 'number of hosts', intArg('--hosts', 1, 50), 2)
    .addOption(new Option('--etcd-members <n>', 'etcd cluster size').choices(['1', '3']).default('1'))
    .option('--netmasters <n>', 'netmaster replicas (0 for none; agents need 1 or more)', intArg('--netmasters', 0, 3), 1)
    .option('--no-agents', 'bare hosts: no netplugin (OVS only; plug containers in by hand with attach)')
    .option(
      '--docker-networks',
      "agents keep a Docker network NETWORK/TENANT per netloom network in their host's dockerd (netplugin --docker-networks)",
    )
    .option('--bgp', "BIRD on the tor as the hosts' BGP route reflector (AS 65000), and netmaster's matching BGP default (docs/bgp.md)")
    .option('--containerd', "start containerd with its CRI plugin on every host (else `kube HOST ...` starts a host's on demand)")
    .option('--no-userspace-tso', "the hosts' ovs-vswitchd start without userspace TSO (every container then keeps tx checksum off)")
    .option('--one-bridge', 'agents with --one-bridge: eth1 and the VTEP address on br-int, no br-phy (docs/netplugin.md)')
    .option(
      '--kube-api',
      'a Kubernetes API (the stand-in of docs/kubernetes.md) on the lab etcd; `netloom-lab kubeconfig` prints its kubeconfig',
    )
    .option(
      '--kube',
      'the lab as a Kubernetes cluster (implies --containerd and --kube-api): netmaster and the agents read the API, one kubelet stand-in per host; pods with kubectl, pinned to a host by spec.nodeName (docs/kubernetes.md)',
    )
    .option('--apic-url <url>', "netmaster's ACI gateway reconciles the APIC at this URL when the fabric mode is aci (docs/aci.md)")
    .option('--apic-user <name>', 'with --apic-url: the APIC user', 'admin')
    .option('--apic-password-file <file>', "with --apic-url: the file holding the APIC user's password")
    .option('--kube-tenant-per-namespace', "with --kube: a pod's default tenant is its namespace (else the pods' tenant, default)")
    .action(
      async (
        o: {
          kube?: boolean;
          kubeTenantPerNamespace?: boolean;
          hosts: number;
          etcdMembers: string;
          netmasters: number;
          agents: boolean;
          dockerNetworks?: boolean;
          oneBridge?: boolean;
          bgp?: boolean;
          containerd?: boolean;
          userspaceTso: boolean;
          kubeApi?: boolean;
          apicUrl?: string;
          apicUser: string;
          apicPasswordFile?: string;
        },
        cmd: Command,
      ) => {
        if ((o.apicUrl === undefined) !== (o.apicPasswordFile === undefined))
          throw new NetloomError('INVALID_ARGUMENT', '--apic-url and --apic-password-file go together', {
            field: o.apicUrl === undefined ? 'apic-url' : 'apic-password-file',
          });
        if (o.kubeTenantPerNamespace && !o.kube)
          throw new NetloomError('INVALID_ARGUMENT', '--kube-tenant-per-namespace needs --kube', { field: 'kube-tenant-per-namespace' });
        await labUp({
          name: labName(cmd),
          hosts: o.hosts,
          etcdMembers: o.etcdMembers === '3' ? 3 : 1,
          netmasters: o.netmasters,
          agents: o.agents,
          ...(o.dockerNetworks ? { dockerNetworks: true } : {}),
          ...(o.oneBridge ? { oneBridge: true } : {}),
          ...(o.bgp ? { bgp: true } : {}),
          ...(o.containerd ? { containerd: true } : {}),
          ...(o.kubeApi ? { kubeApi: true } : {}),
          ...(o.kube ? { kube: { tenantPerNamespace: o.kubeTenantPerNamespace === true } } : {}),
          userspaceTso: o.userspaceTso,
          ...(o.apicUrl && o.apicPasswordFile
            ? { apic: { url: o.apicUrl, user: o.apicUser, passwordFile: resolve(o.apicPasswordFile) } }
            : {}),
          progress,
        });
      },
    );

  program
    .command('kubeconfig')
    .description(
      'print the path of the kubeconfig of the lab\'s Kubernetes API (labs made with up --kube-api): kubectl --kubeconfig "$(netloom-lab kubeconfig)" get ns',
    )
    .action((_o: unknown, cmd: Command) => {
      process.stdout.write(`${labKubeconfig(requireState(labName(cmd)).plan)}\n`);
    });

  program
    .command('down')
    .description('remove everything up made: daemons, namespaces, links and files (also after a crash or a partial up)')
    .action(async (_o: unknown, cmd: Command) => {
      await labDown(labName(cmd), { progress });
    });

  program
    .command('status')
    .description('hosts, containers and etcd members with their health')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
    .action(async (o: { output: string }, cmd: Command) => {
      const s = await labStatus(labName(cmd));
      if (o.output === 'json') process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      else if (o.output === 'yaml') process.stdout.write(YAML.stringify(s));
      else printStatus(s);
    });

  program
    .command('exec')
    .description("run a command in a host's, a container's, the underlay's or the tor's namespace, with that host's OVS environment")
    .argument('<name>', 'host, container, underlay or tor')
    .argument('<command...>', 'the command (put -- before it)')
    .passThroughOptions()
    .action((name: string, command: string[], _o: unknown, cmd: Command) => {
      const state = requireState(labName(cmd));
      const t = resolveTarget(state, name);
      const argv = command[0] === '--' ? command.slice(1) : command;
      if (argv.length === 0) throw new NetloomError('INVALID_ARGUMENT', 'exec needs a command after --', { field: 'command' });
      const r = spawnSync('ip', ['netns', 'exec', t.netns, ...argv], { stdio: 'inherit', env: t.env });
      if (r.error) throw new NetloomError('COMMAND_FAILED', `could not run ${argv[0] ?? ''}: ${r.error.message}`);
      process.exitCode = r.status ?? 1;
    });

  program
    .command('attach')
    .description("plug a container namespace into a host's OVS bridge by hand (NORMAL forwarding)")
    .argument('<host>', 'host name, e.g. host1')
    .argument('<container>', 'container name')
    .requiredOption('--ip <cidr>', 'address with prefix, e.g. 10.1.1.2/24')
    .option('--vlan <tag>', 'access VLAN tag on the OVS port', intArg('--vlan', 1, 4094))
    .option('--bridge <name>', 'OVS bridge', 'br-int')
    .action(async (host: string, container: string, o: { ip: string; vlan?: number; bridge: string }, cmd: Command) => {
      const c = await labAttach({
        labName: labName(cmd),
        host,
        container,
        ip: o.ip,
        bridge: o.bridge,
        ...(o.vlan !== undefined ? { vlan: o.vlan } : {}),
      });
      process.stdout.write(`${c.name}\t${c.host}\t${c.ip}\n`);
    });

  program
    .command('run')
    .description(
      "start a container on a host: a namespace plugged in through the real CNI plugin (bin/netloom-cni) and the host's netplugin; prints NAME HOST IP",
    )
    .argument('<host>', 'host name, e.g. host1')
    .argument('<container>', 'container name')
    .requiredOption('--tenant <name>', 'netloom tenant')
    .requiredOption('--network <name>', "the tenant's network")
    .option('--group <name>', 'endpoint group')
    .option('--ip <addr>', 'ask for this address (default: netmaster allocates)')
    .option('--label <key=value>', 'an endpoint label (repeat for more); service selectors match labels', collect, [])
    .option(
      '-p, --publish <spec>',
      'publish a port on the host: [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp] (CNI portMappings; repeatable)',
      (v: string, prev: LabPortMapping[] = []) => [...prev, parsePublish(v)],
    )
    .action(
      async (
        host: string,
        container: string,
        o: { tenant: string; network: string; group?: string; ip?: string; label: string[]; publish?: LabPortMapping[] },
        cmd: Command,
      ) => {
        const labels = parseLabelPairs(o.label, '--label');
        const c = await labRun({
          labName: labName(cmd),
          host,
          container,
          tenant: o.tenant,
          network: o.network,
          ...(o.group ? { group: o.group } : {}),
          ...(o.ip ? { ip: o.ip } : {}),
          ...(Object.keys(labels).length > 0 ? { labels } : {}),
          ...(o.publish ? { publish: o.publish } : {}),
        });
        process.stdout.write(`${c.name}\t${c.host}\t${c.ip.split('/')[0] ?? c.ip}\n`);
      },
    );

  program
    .command('rm')
    .description('remove a container made by run: CNI DEL (netmaster releases its endpoint), then its namespace')
    .argument('<container...>', 'container names')
    .action(async (containers: string[], _o: unknown, cmd: Command) => {
      for (const c of containers) await labRm(labName(cmd), c);
    });

  const engine = (name: 'docker' | 'podman', description: string) =>
    program
      .command(name)
      .description(description)
      .argument('<host>', 'host name, e.g. host1')
      .argument('<args...>', `${name}'s arguments (put -- before them)`)
      .passThroughOptions()
      .action(async (host: string, args: string[], _o: unknown, cmd: Command) => {
        const state = requireState(labName(cmd));
        const h = findHost(state.plan, host);
        const argv = args[0] === '--' ? args.slice(1) : args;
        process.exitCode = name === 'docker' ? await labDocker(state, h, argv) : await labPodman(state, h, argv);
      });
  engine(
    'docker',
    "run the docker client against HOST's private dockerd (started on demand inside HOST's namespace, driver and IPAM `netloom` = HOST's agent; image netloom/busybox)",
  );
  engine(
    'podman',
    "run podman 4.3 in HOST's namespace with the lab's storage and CNI config; `--network TENANT/NETWORK` names a netloom network (image netloom/busybox)",
  );

  const swarm = program
    .command('swarm')
    .description(
      "Docker swarm mode over the hosts' dockerds with netloom's managed plugin (`swarm up [HOST...]`, `swarm down`, `swarm plugin HOST`): docs/orchestrators.md",
    );
  swarm
    .command('up')
    .description(
      'install and enable the managed plugin on each host, `docker swarm init` on the first (its management address), the others join',
    )
    .argument('[hosts...]', 'hosts, the manager first (default: all)')
    .action(async (hosts: string[], _o: unknown, cmd: Command) => {
      const r = await labSwarmUp(labName(cmd), hosts.length > 0 ? hosts : undefined);
      progress(`swarm: manager ${r.manager}, nodes ${r.nodes.join(', ')}; plugin ${r.plugin}`);
      process.stdout.write(`${r.plugin}\n`);
    });
  swarm
    .command('down')
    .description('every swarm host leaves the swarm (forced: their tasks go) and loses the managed plugin')
    .action(async (_o: unknown, cmd: Command) => {
      await labSwarmDown(labName(cmd));
    });
  swarm
    .command('plugin')
    .description("install and enable the managed plugin on HOST's dockerd only; prints its name")
    .argument('<host>', 'host name, e.g. host1')
    .action(async (host: string, _o: unknown, cmd: Command) => {
      const state = requireState(labName(cmd));
      process.stdout.write(`${await labSwarmPlugin(state, findHost(state.plan, host))}\n`);
    });

  program
    .command('kube')
    .description(
      "pods on HOST through its containerd's CRI, as the kubelet makes them: `kube HOST run-pod|rm-pod|pods|exec|gc ...` (`kube HOST --help`)",
    )
    .argument('<host>', 'host name, e.g. host1')
    .argument('[args...]', 'the kube sub-command and its arguments')
    .passThroughOptions()
    .action(async (host: string, args: string[], _o: unknown, cmd: Command) => {
      try {
        await kubeCommands(host, () => labName(cmd)).parseAsync(args, { from: 'user' });
      } catch (e) {
        // commander already printed its usage error or the help
        if (e instanceof CommanderError) process.exitCode = e.exitCode;
        else throw e;
      }
    });

  program
    .command('detach')
    .description('remove a container made by attach')
    .argument('<container>', 'container name')
    .action(async (container: string, _o: unknown, cmd: Command) => {
      await labDetach(labName(cmd), container);
    });

  for (const verb of ['stop', 'start'] as const) {
    program
      .command(verb)
      .description(`${verb} one netmaster replica: \`${verb} netmaster NAME\` (agents following it reconnect when it is back)`)
      .argument('<what>', 'netmaster')
      .argument('<name>', 'replica name, e.g. netmaster1')
      .action(async (what: string, name: string, _o: unknown, cmd: Command) => {
        if (what !== 'netmaster')
          throw new NetloomError('INVALID_ARGUMENT', `${verb} works on netmaster replicas (got ${what})`, { field: 'what' });
        if (verb === 'stop') {
          await labStopNetmaster(labName(cmd), name);
          progress(`${name} stopped`);
        } else progress(`${name} running (pid ${await labStartNetmaster(labName(cmd), name)})`);
      });
  }

  program
    .command('restart')
    .description(
      'restart one daemon: `restart HOST ovs` (ovs-vswitchd; the database stays), `restart HOST netplugin`, `restart HOST dockerd` ' +
        '(live restore: containers keep running), `restart HOST containerd` (pods keep running), `restart HOST kubelet` (up --kube; pods keep running), or `restart netmaster [NAME]`',
    )
    .argument('<target>', 'a host name, or netmaster')
    .argument(
      '[what]',
      'with a host: ovs, netplugin, dockerd, containerd or kubelet; with netmaster: a replica name such as netmaster2 (default: all)',
    )
    .action(async (target: string, what: string | undefined, _o: unknown, cmd: Command) => {
      if (target === 'netmaster') {
        const pids = await labRestartNetmaster(labName(cmd), what);
        progress(`netmaster restarted (pid ${pids.join(', ')})`);
        return;
      }
      if (what === 'netplugin') {
        const pid = await labRestartNetplugin(labName(cmd), target);
        progress(`${target}: netplugin restarted and ready (pid ${pid})`);
        return;
      }
      if (what === 'containerd') {
        const state = requireState(labName(cmd));
        const h = findHost(state.plan, target);
        const pid = await withLabLock(state.plan.dir, () => restartContainerd(requireState(labName(cmd)), h));
        progress(`${target}: containerd restarted (pid ${pid}); its pods kept running`);
        return;
      }
      if (what === 'kubelet') {
        const state = requireState(labName(cmd));
        const h = findHost(state.plan, target);
        const pid = await withLabLock(state.plan.dir, () => restartKubelet(requireState(labName(cmd)), h));
        progress(`${target}: kubelet restarted (pid ${pid}), node Ready; its pods kept running`);
        return;
      }
      if (what === 'dockerd') {
        const state = requireState(labName(cmd));
        const h = findHost(state.plan, target);
        const pid = await withLabLock(state.plan.dir, () => restartDockerd(requireState(labName(cmd)), h));
        progress(`${target}: dockerd restarted (pid ${pid})`);
        return;
      }
      if (what !== 'ovs')
        throw new NetloomError(
          'INVALID_ARGUMENT',
          `restart ${target} needs what to restart: ovs, netplugin, dockerd, containerd or kubelet (got ${what ?? 'nothing'})`,
          {
            field: 'what',
          },
        );
      const pid = await labRestartOvs(labName(cmd), target);
      progress(`${target}: ovs-vswitchd restarted (pid ${pid})`);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    process.stderr.write(`netloom-lab: ${errorMessage(e)}\n`);
    process.exitCode = e instanceof NetloomError && e.code === 'INVALID_ARGUMENT' ? 2 : 1;
  }
}

if (require.main === module) void main(process.argv);
