// POSIX-style short options as GNU getopt(3) reads them, which is what Heartbeat's commands
// use: clustered flags (-mv), an option's argument in the same word or the next (-pNAME, -p NAME),
// options anywhere among the operands, and "--" ending the options.

export interface Getopt {
  /** Each option letter seen, in order, with its argument when it takes one. */
  options: { letter: string; arg?: string }[];
  operands: string[];
  /** The first problem, worded as GNU getopt prints it (without the program name). */
  error?: string;
}

/** `spec` is getopt's optstring: letters, a ':' after those that take an argument. */
export function getopt(args: string[], spec: string): Getopt {
  const takesArg = (c: string) => spec[spec.indexOf(c) + 1] === ':';
  const out: Getopt = { options: [], operands: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      out.operands.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (c === ':' || !spec.includes(c)) {
        out.error ??= `invalid option -- '${c}'`;
        continue;
      }
      if (!takesArg(c)) {
        out.options.push({ letter: c });
        continue;
      }
      const rest = a.slice(j + 1);
      if (rest) out.options.push({ letter: c, arg: rest });
      else if (i + 1 < args.length) out.options.push({ letter: c, arg: args[++i]! });
      else out.error ??= `option requires an argument -- '${c}'`;
      break;
    }
  }
  return out;
}
