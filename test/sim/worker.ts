// Worker thread for the simulation suite: runs the seed ranges it is sent, posts the totals back.
import { parentPort } from 'node:worker_threads';
import { runRange, type SimOptions } from '../../src/sim/run.js';

parentPort!.on('message', (job: { id: number; from: number; count: number; opts: SimOptions }) => {
  parentPort!.postMessage({ id: job.id, totals: runRange(job.from, job.count, job.opts) });
});
