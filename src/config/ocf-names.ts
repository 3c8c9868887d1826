// Heartbeat 3.0.6's /etc/ha.d/resource.d names, as data: each was a thin shell wrapper that
// put its `::` arguments into OCF_RESKEY_* variables and ran the OCF agent of the same name
// from resource-agents. A user who replaces Heartbeat with heartbeat-ts loses those wrappers
// with Heartbeat's package; this table is what they did (read from the wrappers' argument
// handling and usage lines), so one generic mapper (ocf-spec.ts) does the work of all of them.
// IPaddr, IPaddr2 and IPv6addr are not here: they are built in (agents/ipaddr.ts), so the
// daemon knows every copy of a virtual IP it holds (the address guard, the fence).

export interface ClassicName {
  /** The OCF agent run: OCF_ROOT/resource.d/heartbeat/TYPE. */
  type: string;
  /** The arguments, as the wrapper's usage line shows them (for messages and the README). */
  usage: string;
  /** An example of the arguments that works (`::`-joined), for the README and the tests. */
  example: string;
  /**
   * The OCF parameter each positional argument becomes, in order. `*` on the last one: it
   * takes every remaining argument joined by a space (AudibleAlarm's node list).
   */
  params: string[];
  /** How many arguments the wrapper accepts (its `$#` checks, less the action). */
  counts: readonly number[] | { min: number; max: number };
  /**
   * A single argument split on "/" into the params (SendArp's ip/nic); the last part keeps
   * any further "/" as the wrapper's sed did.
   */
  slashSplit?: true;
  /** Params chosen by the argument's shape instead of position (WAS: a port or a file). */
  byShape?: { pattern: string; param: string; otherwise: string };
  /**
   * Values set when the argument was absent, in order; `{param}` is another param's value.
   * Mostly the wrapper's own; Delay's mondelay is the agent's documented default (startdelay),
   * which resource-agents 4.x no longer applies (it sleeps 30 s in every status otherwise).
   */
  defaults?: Record<string, string>;
  /** OCF_RESOURCE_INSTANCE, with {param} replaced (empty when unset), as the wrapper built it. */
  instance: string;
}

export const CLASSIC_NAMES: Readonly<Record<string, ClassicName>> = {
  AudibleAlarm: { type: 'AudibleAlarm', usage: '[node1 node2 ...]', example: '', params: ['nodelist*'], counts: { min: 0, max: 64 }, instance: 'AudibleAlarm' },
  Delay: {
    type: 'Delay',
    usage: '[delay [stopdelay]]',
    example: '1::1',
    params: ['startdelay', 'stopdelay'],
    counts: { min: 0, max: 2 },
    defaults: { startdelay: '10', mondelay: '{startdelay}' },
    instance: 'Delay_{startdelay}',
  },
  Filesystem: {
    type: 'Filesystem',
    usage: '<device>::<directory>[::<fstype>[::<options>]]',
    example: '/dev/sda1::/data1::ext2',
    params: ['device', 'directory', 'fstype', 'options'],
    counts: { min: 2, max: 4 },
    instance: 'Filesystem_{device}',
  },
  ICP: { type: 'ICP', usage: '<ICP cluster drive ID>::<device>', example: 'c0h1::/dev/sdb', params: ['driveid', 'device'], counts: [2], instance: 'ICP_{driveid}' },
  IPsrcaddr: { type: 'IPsrcaddr', usage: '<ip-address>', example: '10.0.0.10', params: ['ipaddress'], counts: [1], instance: 'IPsrcaddr' },
  LinuxSCSI: { type: 'LinuxSCSI', usage: '<host>:<channel>:<target>[:<lun>]', example: '0:0:11', params: ['scsi'], counts: [1], instance: 'LinuxSCSI_{scsi}' },
  LVM: { type: 'LVM', usage: '<volume group>', example: 'vg01', params: ['volgrpname'], counts: [1], instance: 'LVM' },
  MailTo: { type: 'MailTo', usage: '<email>[::<subject>]', example: 'root@localhost::takeover', params: ['email', 'subject'], counts: { min: 1, max: 2 }, instance: 'MailTo' },
  Raid1: { type: 'Raid1', usage: '<raidtab-config-file>::<raid-device>', example: '/etc/mdadm/mdadm.conf::/dev/md0', params: ['raidconf', 'raiddev'], counts: [2], instance: 'Raid1_{raidconf}' },
  SendArp: { type: 'SendArp', usage: '<ip-address>/<interface>', example: '10.0.0.10/eth0', params: ['ip', 'nic'], counts: [1], slashSplit: true, instance: 'SendArp_{ip}' },
  ServeRAID: { type: 'ServeRAID', usage: '<serveraid#>::<sharedmergegroup#>', example: '1::1', params: ['serveraid', 'mergegroup'], counts: [2], instance: 'ServeRAID_{serveraid}' },
  WAS: {
    type: 'WAS',
    usage: '[<WAS-configuration file> | <WAS-(snoop)-port-number>]',
    example: '9080',
    params: [],
    counts: { min: 0, max: 1 },
    byShape: { pattern: '^[0-9]+$', param: 'port', otherwise: 'config' },
    instance: 'WAS',
  },
  WinPopup: { type: 'WinPopup', usage: '[workstationfile]', example: '/etc/ha.d/hosts', params: ['hostfile'], counts: { min: 0, max: 1 }, instance: 'WinPopup' },
  Xinetd: { type: 'Xinetd', usage: '<service name>', example: 'tftp', params: ['service'], counts: [1], instance: 'Xinetd' },
  apache: { type: 'apache', usage: '[<apache configuration file>]', example: '/etc/apache2/apache2.conf', params: ['configfile'], counts: { min: 0, max: 1 }, instance: 'apache_{configfile}' },
  db2: { type: 'db2', usage: '<db2-database-owner-id>', example: 'db2inst1', params: ['instance'], counts: [1], instance: 'db2_{instance}' },
  ids: {
    type: 'ids',
    usage: '[<INFORMIXDIR>::<INFORMIXSERVER>::<ONCONFIG>]',
    example: '/opt/informix::ids1::onconfig.ids1',
    params: ['informixdir', 'informixserver', 'onconfig'],
    counts: [0, 3],
    instance: 'ids_{informixserver}',
  },
  portblock: {
    type: 'portblock',
    usage: '<protocol>::<portlist>::<action>',
    example: 'tcp::80::block',
    params: ['protocol', 'portno', 'action'],
    counts: [3],
    instance: 'portblock_{protocol}_{portno}_{action}',
  },
};

/** The built-in virtual IP agents, with the usage line of Heartbeat's wrapper of each. */
export const BUILTIN_IP_NAMES: Readonly<Record<'IPaddr' | 'IPaddr2' | 'IPv6addr', { usage: string; example: string }>> = {
  IPaddr: { usage: '<ip-address>[/<netmask bits>[/<interface>[/<broadcast>]]]', example: '10.0.0.10/24/eth0' },
  IPaddr2: { usage: '<ip-address>[/<netmask bits>[/<interface>[/<broadcast>]]] (IPv4 or IPv6)', example: '10.0.0.10/24/eth0' },
  IPv6addr: { usage: '<ipv6-address>[/<prefix>[/<interface>]]', example: '2001:db8::10/64/eth0' },
};

/** Whether `n` arguments suit a name's counts. */
export function countFits(counts: ClassicName['counts'], n: number): boolean {
  return Array.isArray(counts) ? counts.includes(n) : n >= (counts as { min: number }).min && n <= (counts as { max: number }).max;
}

/** "2", "0 or 3", "1 to 2": for error messages. */
export function describeCounts(counts: ClassicName['counts']): string {
  if (Array.isArray(counts)) return counts.join(' or ');
  const c = counts as { min: number; max: number };
  return c.min === c.max ? String(c.min) : `${c.min} to ${c.max}`;
}
