export * from './types.js';
export { loadConfig, type LoadOptions, type LoadResult } from './load.js';
export { formatIssue } from './issues.js';
export { parseVip } from './vip.js';
export { formatDuration, parseDuration } from './duration.js';
