// The secret of a cloud IP agent: an API token file (DigitalOcean, Hetzner) or an AWS
// credentials file, read as authkeys is read (secret-file.ts: no symlink, mode 600, owned by
// root or hbd's user, checked on the descriptor it is read from). A problem names the file and
// the fix, never the content.
import { readSecretFile, readSecretFileSync, type SecretRead } from './secret-file.js';
import type { CloudProviderId } from './cloud.js';

export type CloudSecret =
  | { kind: 'token'; token: string }
  | { kind: 'aws'; accessKeyId: string; secretAccessKey: string; sessionToken: string | null };

export type CloudSecretRead = { ok: true; secret: CloudSecret } | { ok: false; problem: string };

const MAX_BYTES = 8192;

function options(provider: CloudProviderId) {
  return {
    maxBytes: MAX_BYTES,
    createHint:
      provider === 'aws'
        ? 'create it with "[default]", "aws_access_key_id = ..." and "aws_secret_access_key = ..." lines'
        : `create it holding the ${provider === 'digitalocean' ? 'DigitalOcean personal access token (read and write)' : 'Hetzner Cloud API token (read and write)'} on one line`,
  };
}

/** One line of printable characters, no spaces: what both providers issue. */
function parseToken(text: string): CloudSecretRead {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return { ok: false, problem: 'is empty — put the API token in it, on one line' };
  if (lines.length > 1) return { ok: false, problem: `has ${lines.length} lines — it must hold the API token alone, on one line` };
  const token = lines[0]!;
  if (!/^[\x21-\x7e]{8,512}$/.test(token)) return { ok: false, problem: `does not hold a token (8 to 512 printable characters without spaces; found ${token.length} characters)` };
  return { ok: true, secret: { kind: 'token', token } };
}

/**
 * The AWS shared credentials format: `[default]` (or one other section) with
 * `aws_access_key_id`, `aws_secret_access_key` and optionally `aws_session_token`; bare
 * `KEY = VALUE` lines without a section are taken as well.
 */
function parseAws(text: string): CloudSecretRead {
  const sections = new Map<string, Map<string, string>>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (head) {
      current = head[1]!;
      continue;
    }
    const kv = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) return { ok: false, problem: 'has a line that is neither [section] nor key = value' };
    const s = sections.get(current) ?? new Map<string, string>();
    s.set(kv[1]!.toLowerCase(), kv[2]!.trim());
    sections.set(current, s);
  }
  const named = [...sections.keys()].filter((k) => k !== '');
  const pick = sections.get('default') ?? (named.length === 1 ? sections.get(named[0]!) : sections.get(''));
  const id = pick?.get('aws_access_key_id');
  const key = pick?.get('aws_secret_access_key');
  if (!id || !key) return { ok: false, problem: 'lacks aws_access_key_id or aws_secret_access_key (in [default], or the only section)' };
  return { ok: true, secret: { kind: 'aws', accessKeyId: id, secretAccessKey: key, sessionToken: pick?.get('aws_session_token') || null } };
}

function judge(r: SecretRead, provider: CloudProviderId): CloudSecretRead {
  if (!r.ok) return { ok: false, problem: r.problem };
  return provider === 'aws' ? parseAws(r.text) : parseToken(r.text);
}

/** For check-config and hbd's start: the file is checked as it is now. */
export function readCloudSecretSync(path: string, provider: CloudProviderId): CloudSecretRead {
  return judge(readSecretFileSync(path, options(provider)), provider);
}

/** For each API call's start: a new token or a chmod applies without a restart. */
export async function readCloudSecret(path: string, provider: CloudProviderId): Promise<CloudSecretRead> {
  return judge(await readSecretFile(path, options(provider)), provider);
}
