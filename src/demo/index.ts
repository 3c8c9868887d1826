#!/usr/bin/env node
// `npm run demo`: the seed tutorial (DigitalOcean's "High Availability Setup with Heartbeat and
// Floating IPs") on this one machine, in network namespaces. Hosts primary and secondary run
// hbd with the example configuration (examples/ha.d) and a web service that answers with the
// host's name; a client runs the tutorial's curl loop against the virtual IP. The primary is
// powered off, the answers switch to secondary; it is powered on again, the answers switch back.
// Everything it creates (namespaces, addresses, processes, files) is removed at the end, on
// Ctrl-C and on any error.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isRoot, Lan } from '../lib/netns.js';
import { headline, say } from './output.js';
import { Demo, SUBNET } from './scenario.js';
import { CLOUDS, CloudSetup, type CloudName } from './cloud.js';

const run = promisify(execFile);

const USAGE = `usage: npm run demo [-- --hbd-only] [-- --cloud digitalocean|hetzner|aws]

Runs the seed tutorial's two-node cluster in network namespaces on this machine (needs root).

  --hbd-only   instead of powering the primary off and on, kill -9 only its hbd and start
               only hbd again (its virtual IP and web service stay up meanwhile)
  --cloud NAME the first seed with a cloud floating IP instead of a virtual IP on the LAN:
               the client is behind a "cloud" router that serves the provider's API
               (an emulator; moto for aws) and metadata service and delivers the floating
               IP to the machine it is assigned to; hbd's built-in agent assigns it
`;

/** --cloud NAME (or --cloud=NAME), checked; null when not given. */
function cloudArg(argv: string[]): { cloud: CloudName | null; rest: string[] } | string {
  const rest: string[] = [];
  let cloud: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--cloud') cloud = argv[++i] ?? '';
    else if (a.startsWith('--cloud=')) cloud = a.slice('--cloud='.length);
    else rest.push(a);
  }
  if (cloud !== null && !(CLOUDS as readonly string[]).includes(cloud)) return `--cloud needs one of ${CLOUDS.join(', ')}${cloud ? ` (not "${cloud}")` : ''}`;
  return { cloud: cloud as CloudName | null, rest };
}

async function checkTools(): Promise<string | null> {
  const tools: [string, string[], string][] = [
    ['ip', ['-V'], 'iproute2'],
    ['curl', ['--version'], 'curl'],
    ['arping', ['-V'], 'iputils-arping'],
  ];
  for (const [cmd, args, pkg] of tools) {
    try {
      await run(cmd, args, { timeout: 5000 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `The demo needs ${cmd} (Debian package ${pkg}): run bash scripts/install-deps.sh first.`;
    }
  }
  return null;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const parsed = cloudArg(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`demo: ${parsed}\n\n${USAGE}`);
    return 2;
  }
  const unknown = parsed.rest.filter((a) => a !== '--hbd-only');
  if (unknown.length) {
    process.stderr.write(`demo: unknown argument ${unknown[0]}\n\n${USAGE}`);
    return 2;
  }
  if (!isRoot()) {
    process.stderr.write('The demo needs root: it creates network namespaces (run it with sudo).\n');
    return 1;
  }
  const cloud = parsed.cloud ? new CloudSetup(parsed.cloud) : null;
  const missing = (await checkTools()) ?? (await cloud?.missing()) ?? null;
  if (missing) {
    process.stderr.write(`${missing}\n`);
    return 1;
  }

  const world = new Lan({ subnet: SUBNET, label: 'hbdemo' });
  let demo: Demo | null = null;
  let cleaned: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      demo?.client.stopWatching();
      headline('Cleanup');
      const r = await world.destroy();
      say('world', `removed ${r.processes} processes (by PID), ${r.namespaces.length} namespaces with their links and addresses (${r.namespaces.join(', ')}), and the temp files`);
    })());
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    process.stdout.write(`\n(${sig}: stopping the demo)\n`);
    void cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));

  process.stdout.write(`heartbeat-ts demo: the seed tutorial's high-availability setup, on this machine${cloud ? `, with a ${cloud.name} floating IP` : ''}\n`);
  try {
    demo = new Demo(world, argv.includes('--hbd-only'), cloud);
    await demo.run();
    await cleanup();
    return 0;
  } catch (err) {
    if (cleaned) return 1; // interrupted: the signal handler finishes
    process.stderr.write(`\ndemo: ${(err as Error).message}\n`);
    await cleanup();
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
