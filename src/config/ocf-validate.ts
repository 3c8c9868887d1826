// `hbctl check-config --validate`: each OCF resource's own `validate-all`, with its parameters,
// on this node. Opt-in, because an agent checks this node as it is now (is the device there,
// is the binary installed), which on a standby node may rightly differ from the owner's.
import { execFileSync } from 'node:child_process';
import { metaDataEnv, ocfCodeName } from './ocf-meta.js';
import type { OcfAgentSpec } from './types.js';

const VALIDATE_TIMEOUT_MS = 20_000;

export interface Validation {
  ok: boolean;
  /** `returned 2 (OCF_ERR_ARGS): State file "/x" is not writable`, or what ran and how. */
  text: string;
}

export function validateAllSync(ocf: OcfAgentSpec): Validation {
  const env: NodeJS.ProcessEnv = {
    ...metaDataEnv(ocf.root),
    OCF_RESOURCE_INSTANCE: ocf.instance,
    OCF_RESOURCE_TYPE: ocf.type,
    OCF_RESOURCE_PROVIDER: ocf.provider,
    OCF_RESKEY_CRM_meta_timeout: String(VALIDATE_TIMEOUT_MS),
  };
  for (const [k, v] of ocf.params) env[`OCF_RESKEY_${k}`] = v;
  try {
    execFileSync(ocf.path, ['validate-all'], { env, timeout: VALIDATE_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1024 * 1024 });
    return { ok: true, text: 'validate-all returned 0 (OCF_SUCCESS)' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number | null; stdout?: Buffer; stderr?: Buffer };
    if (e.code === 'ETIMEDOUT') return { ok: false, text: `validate-all did not finish in ${VALIDATE_TIMEOUT_MS} ms` };
    if (typeof e.status !== 'number') return { ok: false, text: `validate-all could not run (${e.code ?? e.message})` };
    const said = `${e.stderr?.toString() ?? ''}\n${e.stdout?.toString() ?? ''}`;
    // The agent's own one-line reason, when it gave one (ocf_exit_reason), else its last line.
    const reason = /^ocf-exit-reason:(.*)$/m.exec(said)?.[1] ?? said.trim().split('\n').pop() ?? '';
    return { ok: false, text: `validate-all returned ${e.status} (${ocfCodeName(e.status)})${reason ? `: ${reason.trim()}` : ''}` };
  }
}
