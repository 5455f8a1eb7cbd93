/**
 * Reference model of the path a winrs command takes, for the property tests, written from the rules and not from
 * src/: the Windows command line of winrs.exe (what Node/libuv or the jump runner writes: each element quoted for
 * the C runtime), CommandLineToArgvW's split of it, winrs's switch/command split and join, and `cmd /c` on the
 * far side (the /c quote rule, %NAME% expansion of defined variables, the caret pass) followed by the C
 * runtime's split of the program's arguments.
 */

/** How a caller (libuv's quote_cmd_arg, the jump runner) writes one argument for the C runtime. */
export function quoteForCrt(arg: string): string {
  if (arg !== '' && !/[ \t"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === '\\') slashes++;
    else if (ch === '"') {
      out += `${'\\'.repeat(slashes * 2 + 1)}"`;
      slashes = 0;
    } else {
      out += `${'\\'.repeat(slashes)}${ch}`;
      slashes = 0;
    }
  }
  return `${out}${'\\'.repeat(slashes * 2)}"`;
}

/** CommandLineToArgvW / the C runtime (2008+): 2n backslashes + quote -> n and a toggle; 2n+1 -> n and a quote. */
export function commandLineToArgv(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) break;
    let arg = '';
    let quoted = false;
    while (i < n && (quoted || (line[i] !== ' ' && line[i] !== '\t'))) {
      let slashes = 0;
      while (line[i] === '\\') {
        slashes++;
        i++;
      }
      if (line[i] === '"') {
        arg += '\\'.repeat(slashes >> 1);
        if (slashes % 2 === 1) arg += '"';
        else if (quoted && line[i + 1] === '"') {
          arg += '"';
          i++;
        } else quoted = !quoted;
        i++;
      } else {
        arg += '\\'.repeat(slashes);
        if (i < n && (quoted || (line[i] !== ' ' && line[i] !== '\t'))) arg += line[i++];
      }
    }
    out.push(arg);
  }
  return out;
}

/** winrs: switches up to the first element without `-` or `/`, the rest joined with blanks. */
export function winrsSplit(argv: readonly string[]): { switches: string[]; command: string } {
  let i = 0;
  while (i < argv.length && /^[-/]/.test(argv[i]!)) i++;
  return { switches: argv.slice(0, i), command: argv.slice(i).join(' ') };
}

/** `cmd /c LINE` then the program's C runtime split: the argv the program sees (argv[0] by cmd's token rule). */
export function cmdThenArgv(line: string, env: Readonly<Record<string, string>>): string[] {
  // /c rule 2: a leading quote and the last quote on the line are removed.
  const text = line.startsWith('"')
    ? line.slice(1, line.lastIndexOf('"')) + line.slice(line.lastIndexOf('"') + 1)
    : line;
  // Phase 1: %NAME% of a defined variable (case-insensitive) is replaced; anything else is kept.
  let expanded = '';
  for (let i = 0; i < text.length; ) {
    const close = text[i] === '%' ? text.indexOf('%', i + 1) : -1;
    const name = close > 0 ? text.slice(i + 1, close) : undefined;
    const value =
      name === undefined
        ? undefined
        : Object.entries(env).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    if (value !== undefined) {
      expanded += value;
      i = close + 1;
    } else expanded += text[i++];
  }
  // Phase 2: carets escape outside quotes; a quote toggles; the program token ends at an unquoted blank.
  let out = '';
  let quoted = false;
  let tokenEnd = -1;
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i]!;
    if (c === '^' && !quoted && i + 1 < expanded.length) {
      out += expanded[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (tokenEnd < 0 && !quoted && (c === ' ' || c === '\t')) tokenEnd = out.length;
    out += c;
  }
  if (tokenEnd < 0) tokenEnd = out.length;
  return [out.slice(0, tokenEnd).replace(/"/g, ''), ...commandLineToArgv(out.slice(tokenEnd))];
}

/** The whole path: winrs.exe's argv elements -> what the remote program receives, and the switches winrs read. */
export function throughWinrs(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): { switches: string[]; remoteArgv: string[] } {
  const line = ['winrs.exe', ...args].map(quoteForCrt).join(' ');
  const argv = commandLineToArgv(line).slice(1);
  const { switches, command } = winrsSplit(argv);
  return { switches, remoteArgv: cmdThenArgv(command, env) };
}
