// Everything a benchmark creates (namespaces, processes, addresses, temp dirs) registers its
// removal here. It runs in a `finally`, and on SIGINT/SIGTERM or a crash, so an interrupted
// run leaves nothing behind.
import { UsageError } from './report.js';

type Task = () => Promise<void> | void;

const tasks: { name: string; fn: Task }[] = [];
let installed = false;
let running: Promise<void> | null = null;

/** Registers a cleanup; returns a function that runs it now (and unregisters it). */
export function onCleanup(name: string, fn: Task): () => Promise<void> {
  installHandlers();
  const entry = { name, fn };
  tasks.push(entry);
  return async () => {
    const i = tasks.indexOf(entry);
    if (i < 0) return;
    tasks.splice(i, 1);
    await safe(entry);
  };
}

async function safe(t: { name: string; fn: Task }): Promise<void> {
  try {
    await t.fn();
  } catch (err) {
    process.stderr.write(`cleanup ${t.name}: ${(err as Error).message}\n`);
  }
}

/** Runs every registered cleanup, newest first. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (tasks.length > 0) {
      const t = tasks.pop()!;
      await safe(t);
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  const bail = (why: string, code: number) => {
    process.stderr.write(`\nbench: ${why}: cleaning up...\n`);
    void cleanupAll().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => bail('interrupted', 130));
  process.on('SIGTERM', () => bail('terminated', 143));
  process.on('SIGHUP', () => bail('hangup', 129));
  process.on('uncaughtException', (err) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    bail('uncaught exception', 1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    bail('unhandled rejection', 1);
  });
}

/** Runs `main`, then the cleanups, whatever happens; sets the exit code. */
export async function runMain(main: () => Promise<void>): Promise<void> {
  installHandlers();
  let code = 0;
  try {
    await main();
  } catch (err) {
    // What was asked cannot be done here (a system not installed): the reason, not a stack.
    if (err instanceof UsageError) process.stderr.write(`bench: ${err.message}\n`);
    else process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    code = err instanceof UsageError ? 2 : 1;
  } finally {
    await cleanupAll();
  }
  process.exitCode = code;
  // Streams of killed children may keep handles; nothing is left to wait for.
  setTimeout(() => process.exit(code), 200).unref();
}
