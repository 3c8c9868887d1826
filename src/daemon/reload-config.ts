// The configuration as a running daemon reads it (SIGHUP), without holding up heartbeats: OCF
// agents' meta-data known from before is used as is; an agent not read yet (a new one, or an
// upgraded one) is read in a child process the event loop does not wait on, and the files are
// loaded once more with it. (hbd's first load, before it joins, may simply wait.)
import { fetchMetaData } from '../agents/index.js';
import { DEFAULT_OCF_ROOT, loadConfig, type LoadOptions, type LoadResult } from '../config/load.js';

export async function loadWithoutBlocking(opts: LoadOptions): Promise<LoadResult> {
  const first = loadConfig({ ...opts, ocfMeta: 'cached' });
  if (first.unreadMeta.length === 0) return first;
  const root = opts.roots?.ocfRoot ?? DEFAULT_OCF_ROOT;
  await Promise.all(first.unreadMeta.map((path) => fetchMetaData(path, root)));
  return loadConfig({ ...opts, ocfMeta: 'cached' });
}
