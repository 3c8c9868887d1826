// What `npm run bench` runs, in order: each benchmark with its arguments, each entry writing
// one section of bench/RESULTS.md (bench:<benchmark><--section>). As data, so that
// test/bench/plan.test.ts can check it against the sections committed there.

/** One run of a benchmark: its name (bench/<name>.ts) and its arguments. */
export type PlanEntry = [benchmark: string, args: string[]];

/** The plan at full size, or --quick's (fewer trials, shorter soaks; all.ts adds --no-write). */
export function benchPlan(quick: boolean): PlanEntry[] {
  return [
    // First the check that the harness reproduces the orientation figures for the peers
    // (5 kill -9 trials at keepalive 200 ms / deadtime 1 s; keepalived advert_int 0.2).
    ['failover', ['--trials', '5', '--timers', 'orient', '--faults', 'kill', '--systems', 'hbd,heartbeat,keepalived,pacemaker', '--section', '-orientation']],
    // Each timer set in its own section, as the committed results (and README's table) keep them.
    ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '20']), '--timers', 'fast']],
    ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '20']), '--timers', 'slow', '--section', '-slow']],
    // kill -9 of the main process alone: hbd's guard removes the VIP and sends the last words.
    ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '20']), '--timers', 'fast', '--faults', 'kill-main', '--systems', 'hbd,heartbeat,keepalived,pacemaker', '--section', '-kill-main']],
    // Failback as a first return (a fresh pair per trial): trials seconds apart on one pair are a
    // crash loop, which hbd's flap damping answers with a longer hold-down on purpose.
    ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '10']), '--fresh', '--faults', 'kill', '--systems', 'hbd,heartbeat,pacemaker', '--section', '-failback-fresh']],
    ['stability', quick ? ['--duration', '60'] : ['--duration', '600']],
    // The sub-quarter-second tier: keepalive 50 ms / deadtime 200 ms (keepalived advert_int 0.05),
    // its failover, and whether it holds (no false failover) under stress-ng and under self-load.
    ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '10']), '--timers', 'tier', '--faults', 'kill,link', '--systems', 'hbd,keepalived', '--section', '-tier']],
    ['stability', [...(quick ? ['--duration', '60'] : ['--duration', '600']), '--timers', 'tier', '--systems', 'hbd,keepalived,hbd-selfload', '--section', '-tier']],
    // Pacemaker in the tier: at Pacemaker's defaults and with transition-delay 50 ms (which takes
    // the controller's one-second re-ask of the CIB out of its failover), token 91 (= deadtime)
    // and 42 (the smallest corosync takes); first returns; both tokens under stress-ng.
    ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '10']), '--timers', 'tier', '--faults', 'kill,link', '--systems', 'hbd,pacemaker,pacemaker-td50,pacemaker-t42-td50', '--section', '-pacemaker-tier']],
    ['failover', [...(quick ? ['--trials', '3'] : ['--trials', '5']), '--fresh', '--timers', 'tier', '--faults', 'kill,link', '--systems', 'hbd,pacemaker,pacemaker-td50', '--section', '-pacemaker-tier-fresh']],
    ['stability', [...(quick ? ['--duration', '60'] : ['--duration', '600']), '--timers', 'tier', '--systems', 'pacemaker-td50', '--section', '-pacemaker-tier']],
    ['stability', [...(quick ? ['--duration', '60'] : ['--duration', '600']), '--timers', 'tier', '--systems', 'pacemaker-t42-td50', '--section', '-pacemaker-tier-t42']],
    ['footprint', quick ? ['--window', '20'] : ['--window', '60']],
    // The daemons left running for an hour: hbd's JIT warms up for tens of minutes at keepalive
    // 1 s, so a window after a minute's settle shows its start-up, not what it costs for good.
    ['footprint', [...(quick ? ['--windows', '2', '--window', '20', '--settle', '5'] : ['--windows', '6', '--window', '600', '--settle', '60']), '--together', '--timers', 'slow', '--systems', 'hbd,heartbeat,keepalived,pacemaker', '--section', '-steady-1s']],
    // The work per heartbeat, without the wake-ups (prints only).
    ['heartbeat-cost', []],
    ['scale', quick ? ['--stable', '30', '--sizes', '8,16'] : ['--stable', '300']],
  ];
}

/** The benchmarks that print only (no section in bench/RESULTS.md). */
const PRINTS_ONLY = new Set(['heartbeat-cost']);

/** The value of `--name` in an argument list, if given. */
export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The section of bench/RESULTS.md an entry writes (at full size), or null when it prints only. */
export function sectionOf([benchmark, args]: PlanEntry): string | null {
  return PRINTS_ONLY.has(benchmark) ? null : `${benchmark}${option(args, 'section') ?? ''}`;
}
