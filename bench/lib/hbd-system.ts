// heartbeat-ts (this repository) as a system under test: ha.cf + authkeys + haresources,
// IPaddr built in; and its variants (scheduling, V8 flags, another build).
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './report.js';
import { AUTHKEYS, haCf, haresources } from './ha-config.js';
import { finishStart, type ClusterSpec, type System } from './system.js';

export const HBD_JS = join(REPO, 'dist', 'src', 'cli', 'hbd.js');

export interface HbdVariant {
  label?: string;
  key?: string;
  /** Runs hbd under these commands (e.g. chrt, nice). */
  prefix?: string[];
  httpListen?: string;
  extraHaCf?: string[];
  /** Another build of hbd (an older commit, to compare a change side by side in one run); null: one was wanted and none named. */
  hbdJs?: string | null;
  /** More arguments for hbd. */
  args?: string[];
  /** Options for node itself, before hbd.js (V8 experiments). */
  nodeArgs?: string[];
  /** More environment for hbd (NOTIFY_SOCKET: as under systemd's Type=notify). */
  env?: Record<string, string>;
}

/** The build HBD_BASELINE names (the root of another checkout, built with `npm run build`), if it names one. */
const BASELINE_HBD_JS = process.env.HBD_BASELINE ? join(process.env.HBD_BASELINE, 'dist', 'src', 'cli', 'hbd.js') : null;

/** heartbeat-ts as benchmarked: as configured by default, and the scheduling experiments. */
export const HBD_VARIANTS: Record<string, HbdVariant & { key: string; label: string }> = {
  hbd: { key: 'hbd', label: 'heartbeat-ts' },
  'hbd-nort': { key: 'hbd-nort', label: 'heartbeat-ts, realtime off', extraHaCf: ['realtime off'] },
  'hbd-rt': { key: 'hbd-rt', label: 'heartbeat-ts (unit: rr 10, nice -10)', prefix: ['chrt', '-r', '10', 'nice', '-n', '-10'] },
  'hbd-rt-rof': { key: 'hbd-rt-rof', label: 'heartbeat-ts (unit: rr 10, nice -10, reset on fork)', prefix: ['chrt', '--reset-on-fork', '-r', '10', 'nice', '-n', '-10'] },
  // The build of another checkout, named by HBD_BASELINE (its root, built with `npm run build`).
  'hbd-baseline': { key: 'hbd-baseline', label: 'heartbeat-ts (baseline build)', hbdJs: BASELINE_HBD_JS },
  // Issue 19's experiment: V8's garbage collector on the main thread alone (no wake-ups of its helper threads).
  'hbd-stgc': { key: 'hbd-stgc', label: 'heartbeat-ts, --single-threaded-gc', nodeArgs: ['--single-threaded-gc'] },
  // Issue 19, second cut (tried, not kept: bench/RESULTS.md): no V8 background threads at all (no
  // futex wake-ups to hand them work), and an earlier tier-up (a daemon that runs 10 times a
  // second spends minutes in unoptimised code).
  'hbd-st': { key: 'hbd-st', label: 'heartbeat-ts, --single-threaded', nodeArgs: ['--single-threaded'] },
  'hbd-ib': { key: 'hbd-ib', label: 'heartbeat-ts, --interrupt-budget=16384', nodeArgs: ['--interrupt-budget=16384'] },
  'hbd-ib4': { key: 'hbd-ib4', label: 'heartbeat-ts, --interrupt-budget=4096', nodeArgs: ['--interrupt-budget=4096'] },
  'hbd-st-ib': { key: 'hbd-st-ib', label: 'heartbeat-ts, --single-threaded --interrupt-budget=16384', nodeArgs: ['--single-threaded', '--interrupt-budget=16384'] },
  // As under systemd (Type=notify, the package's unit): hbd keeps a STATUS= line for systemctl.
  // No manager listens here; what differs is the work hbd does to keep the line current.
  'hbd-notify': { key: 'hbd-notify', label: 'heartbeat-ts, NOTIFY_SOCKET set (as under systemd)', env: { NOTIFY_SOCKET: '/run/hbd-bench-no-manager' } },
  'hbd-baseline-notify': { key: 'hbd-baseline-notify', label: 'heartbeat-ts (baseline build), NOTIFY_SOCKET set', hbdJs: BASELINE_HBD_JS, env: { NOTIFY_SOCKET: '/run/hbd-bench-no-manager' } },
};

/**
 * The command that runs hbd for `node` from `dir` (its ha.d, state and control socket): the
 * variant's prefix (or the cluster spec's), node options, build and arguments, in that order.
 */
export function hbdArgv(variant: HbdVariant, dir: string, node: string, specPrefix: string[] = []): string[] {
  // HBD_NODE_ARGS: node options for hbd itself (e.g. "--cpu-prof --cpu-prof-dir=DIR" to profile it; NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = (process.env.HBD_NODE_ARGS ?? '').split(' ').filter((x) => x !== '');
  return [
    ...(variant.prefix ?? specPrefix),
    process.execPath,
    ...(variant.nodeArgs ?? []),
    ...nodeArgs,
    variant.hbdJs ?? HBD_JS,
    '-f',
    '--config-dir', join(dir, 'ha.d'),
    '--node', node,
    '--state-dir', join(dir, 'state'),
    '--control-socket', join(dir, 'ctl.sock'),
    ...(variant.httpListen ? ['--http-listen', variant.httpListen] : []),
    ...(variant.args ?? []),
  ];
}

export function hbd(variant: HbdVariant = {}): System {
  let spec: ClusterSpec | null = null;
  return {
    key: variant.key ?? 'hbd',
    label: variant.label ?? 'heartbeat-ts',
    missing: () => {
      // A baseline that silently fell back to this build would compare the build with itself.
      if (variant.hbdJs === null) return `${variant.key ?? 'hbd'} runs another build: set HBD_BASELINE to the root of a checkout built with npm run build`;
      const js = variant.hbdJs ?? HBD_JS;
      return existsSync(js) ? null : `no hbd build at ${js}: run npm run build${variant.hbdJs ? ' in that checkout' : ''}`;
    },
    detectionMs: (t) => t.deadtimeMs,
    timerNote: (t) => `keepalive ${t.keepaliveMs} ms, deadtime ${t.deadtimeMs} ms`,
    async prepare(tb, s) {
      spec = s;
      for (const n of s.nodes) {
        const dir = join(tb.dir, 'hbd', n);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(join(dir, 'ha.d', 'resource.d'), { recursive: true });
        mkdirSync(join(dir, 'state'), { recursive: true });
        writeFileSync(join(dir, 'ha.d', 'ha.cf'), haCf(tb, s, join(dir, 'ha-log'), [...(s.extraHaCf ?? []), ...(variant.extraHaCf ?? [])]));
        writeFileSync(join(dir, 'ha.d', 'authkeys'), AUTHKEYS);
        chmodSync(join(dir, 'ha.d', 'authkeys'), 0o600);
        writeFileSync(join(dir, 'ha.d', 'haresources'), haresources(tb, s));
        for (const [name, text] of Object.entries(s.resourceScripts ?? {})) {
          writeFileSync(join(dir, 'ha.d', 'resource.d', name), text);
          chmodSync(join(dir, 'ha.d', 'resource.d', name), 0o755);
        }
      }
    },
    start(tb, node) {
      if (variant.hbdJs === null) throw new Error(this.missing() ?? 'no hbd build named');
      const dir = join(tb.dir, 'hbd', node);
      return finishStart(tb, node, tb.spawn(node, hbdArgv(variant, dir, node, spec?.prefix), variant.env ? { env: variant.env } : {}), dir);
    },
    deadPattern: (owner) => new RegExp(`node ${owner}: is dead`),
    falseAlarm: (line) => /node \S+: is dead/.test(line),
    mainProcess: /^heartbeat: master(?: control process)?\b|\/hbd\.js /,
  };
}
