/**
 * The part of cmd.exe's command-line parsing the builtins host needs: %VAR% expansion, the operators
 * `&`, `&&`, `||`, `|`, redirections (`>`, `>>`, `<`, `2>`, `2>&1`) and `^` escapes, with cmd's quirks kept
 * (`echo a & echo b` prints "a " with the blank; `echo x > f` writes "x \r\n").
 */

export type Operator = '&' | '&&' | '||' | '|';

export interface Redirection {
  /** 1 stdout, 2 stderr, 0 stdin. */
  fd: 0 | 1 | 2;
  append: boolean;
  /** File path, or `&1` / `&2` for a duplicate. */
  target: string;
}

export interface SimpleCommand {
  /** Command name as typed (`echo`, `echo.`, `C:\x\y.exe`), quotes removed. */
  name: string;
  /** Text after the name and its one delimiter, as cmd passes it (escapes removed, quotes kept). */
  argText: string;
  /** Nothing followed the name, not even a delimiter (`echo` alone, unlike `echo.`). */
  bare: boolean;
  redirections: Redirection[];
}

export interface Pipeline {
  /** Commands joined by `|`. */
  commands: SimpleCommand[];
  /** Operator before this pipeline (undefined for the first). */
  op: Exclude<Operator, '|'> | undefined;
}

/** Expand %NAME% (case-insensitive) from env; unknown names stay as typed, as in `cmd /c`. */
export function expandVariables(line: string, env: Readonly<Record<string, string>>): string {
  const lower = new Map(Object.entries(env).map(([k, v]) => [k.toLowerCase(), v]));
  return line.replace(/%([^%\s=]+)%/g, (whole, name: string) => lower.get(name.toLowerCase()) ?? whole);
}

/** Split a line into top-level pieces separated by operators, honouring quotes and `^`. */
function splitOperators(line: string): Array<{ text: string; op: Operator | undefined }> {
  const out: Array<{ text: string; op: Operator | undefined }> = [];
  let cur = '';
  let quoted = false;
  let pendingOp: Operator | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') quoted = !quoted;
    if (!quoted && c === '^' && i + 1 < line.length) {
      cur += c + line[i + 1];
      i++;
      continue;
    }
    if (!quoted && (c === '&' || c === '|')) {
      // `2>&1` is a redirection, not an operator.
      if (c === '&' && cur.endsWith('>')) {
        cur += c;
        continue;
      }
      const double = line[i + 1] === c;
      out.push({ text: cur, op: pendingOp });
      pendingOp = (double ? c + c : c) as Operator;
      if (double) i++;
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push({ text: cur, op: pendingOp });
  return out;
}

function removeCaretEscapes(s: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') quoted = !quoted;
    if (!quoted && c === '^' && i + 1 < s.length) {
      out += s[++i];
      continue;
    }
    out += c;
  }
  return out;
}

/** Pull redirections out of a simple command's text, keeping the blanks around them (cmd does). */
function extractRedirections(text: string): { rest: string; redirections: Redirection[] } {
  const redirections: Redirection[] = [];
  let rest = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    if (!quoted && c === '^' && i + 1 < text.length) {
      rest += c + text[++i];
      continue;
    }
    if (quoted || (c !== '>' && c !== '<')) {
      rest += c;
      continue;
    }
    let fd: 0 | 1 | 2 = c === '<' ? 0 : 1;
    if (c === '>' && /(^|\s)[12]$/.test(rest)) {
      fd = rest.endsWith('2') ? 2 : 1;
      rest = rest.slice(0, -1);
    }
    let append = false;
    if (c === '>' && text[i + 1] === '>') {
      append = true;
      i++;
    }
    let j = i + 1;
    while (text[j] === ' ' || text[j] === '\t') j++;
    let target = '';
    if (text[j] === '&' && /[12]/.test(text[j + 1] ?? '')) {
      target = text.slice(j, j + 2);
      j += 2;
    } else if (text[j] === '"') {
      const end = text.indexOf('"', j + 1);
      target = end < 0 ? text.slice(j + 1) : text.slice(j + 1, end);
      j = end < 0 ? text.length : end + 1;
    } else {
      while (j < text.length && !/[\s<>]/.test(text[j]!)) target += text[j++];
    }
    redirections.push({ fd, append, target });
    i = j - 1;
  }
  return { rest, redirections };
}

/** Split a simple command's text into its name and argument text (cmd's rules for the first token). */
export function splitName(text: string): { name: string; argText: string; bare: boolean } {
  const t = text.replace(/^[\s@]+/, '');
  if (t.startsWith('"')) {
    const end = t.indexOf('"', 1);
    const name = end < 0 ? t.slice(1) : t.slice(1, end);
    const rest = end < 0 ? '' : t.slice(end + 1);
    return { name, argText: rest.replace(/^[\s]/, ''), bare: rest.trim() === '' };
  }
  // `echo.` and `echo,x`: cmd ends the name of an internal command at . , ; = ( and /.
  const m = /^([^\s.,;=(/]*)([\s\S]*)$/.exec(t)!;
  const name = m[1]!;
  let rest = m[2]!;
  if (rest.startsWith('.') && name.toLowerCase() !== 'echo') {
    // A dotted name is a file name (`foo.exe`), except echo.
    const more = /^([^\s]*)([\s\S]*)$/.exec(rest)!;
    return { name: name + more[1], argText: more[2]!.replace(/^\s/, ''), bare: more[2]!.trim() === '' };
  }
  const bare = rest.trim() === '' && !/^[.,;=]/.test(rest);
  if (/^[\s.,;=]/.test(rest)) rest = rest.slice(1);
  return { name, argText: rest, bare };
}

/** Parse a full command line into pipelines joined by &, && and ||. */
export function parseCommandLine(line: string): Pipeline[] {
  const pieces = splitOperators(line);
  const pipelines: Pipeline[] = [];
  for (const piece of pieces) {
    const { rest, redirections } = extractRedirections(piece.text);
    const { name, argText, bare } = splitName(rest);
    const cmd: SimpleCommand = {
      name: removeCaretEscapes(name),
      argText: removeCaretEscapes(argText),
      bare,
      redirections,
    };
    if (piece.op === '|' && pipelines.length > 0) pipelines[pipelines.length - 1]!.commands.push(cmd);
    else pipelines.push({ commands: [cmd], op: piece.op as Pipeline['op'] });
  }
  return pipelines;
}

/** Split argument text into words (quotes group, and are removed), for commands that take several. */
export function words(argText: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"?|(\S+)/g;
  for (let m = re.exec(argText); m; m = re.exec(argText)) out.push(m[1] ?? m[2]!);
  return out;
}
