/**
 * The part of cmd.exe's command-line parsing the builtins host needs: the /C quote rule, %VAR% expansion
 * (with `:str=repl` and `:~n,m`), the operators
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

/** Case-insensitive indexOf, code unit by code unit (cmd compares names and search strings ignoring case). */
function indexOfIgnoreCase(hay: string, needle: string, from: number): number {
  const h = hay.toLowerCase();
  const n = needle.toLowerCase();
  // toLowerCase keeps the length for all but a few letters (e.g. U+0130); fall back to an exact search then.
  if (h.length !== hay.length || n.length !== needle.length) return hay.indexOf(needle, from);
  return h.indexOf(n, from);
}

/** `%NAME:~n,m%` on a value (set /?: a negative offset or length counts from the end). */
function substring(value: string, spec: string): string | undefined {
  const m = /^~(-?\d+)(?:,(-?\d+))?$/.exec(spec);
  if (!m) return undefined;
  const n = Number(m[1]);
  const start = n < 0 ? Math.max(0, value.length + n) : Math.min(n, value.length);
  const len = m[2] === undefined ? undefined : Number(m[2]);
  const end = len === undefined ? value.length : len < 0 ? value.length + len : start + len;
  return value.slice(start, Math.max(start, end));
}

/** `%NAME:str=repl%` and `%NAME:*str=repl%` on a value (set /?), matching case-insensitively. */
function substitute(value: string, spec: string): string | undefined {
  const eq = spec.indexOf('=');
  if (eq < 0) return undefined;
  const star = spec.startsWith('*');
  const search = spec.slice(star ? 1 : 0, eq);
  const repl = spec.slice(eq + 1);
  // An empty search string is not a substitution cmd documents; the mock leaves such text as typed.
  if (search === '') return undefined;
  if (star) {
    const at = indexOfIgnoreCase(value, search, 0);
    return at < 0 ? value : repl + value.slice(at + search.length);
  }
  let out = '';
  let from = 0;
  for (let at = indexOfIgnoreCase(value, search, 0); at >= 0; at = indexOfIgnoreCase(value, search, from)) {
    out += value.slice(from, at) + repl;
    from = at + search.length;
  }
  return out + value.slice(from);
}

/**
 * Phase 1 of cmd.exe's parser for a command line given to `cmd /c` (command-line mode, not a batch file), as
 * described by `set /?` and the "How does the Windows Command Interpreter (CMD.EXE) parse scripts" analysis:
 * - a `%` pairs with the next `%`; the text between is NAME, `NAME:str=repl`, `NAME:*str=repl` or
 *   `NAME:~n[,m]`; NAME is looked up case-insensitively (it may contain blanks) and the whole `%...%` becomes
 *   the (edited) value;
 * - when NAME is not defined (or the edit is not one of those forms), the first `%` stays as typed and the scan
 *   goes on from the next character, so the closing `%` may open the next pair (`%a %b% c%` with b=a gives
 *   `%a a c%`); a batch file would remove the undefined variable instead, and would turn `%%` into `%`;
 * - carets mean nothing here: this phase runs before the caret pass, so `^` cannot escape `%`.
 * `env` holds the environment; dynamic variables (%CD%, %ERRORLEVEL%) are passed in it by the caller.
 */
export function expandVariables(line: string, env: Readonly<Record<string, string>>): string {
  const lower = new Map(Object.entries(env).map(([k, v]) => [k.toLowerCase(), v]));
  let out = '';
  let i = 0;
  while (i < line.length) {
    const close = line[i] === '%' ? line.indexOf('%', i + 1) : -1;
    if (close < 0) {
      out += line[i++];
      continue;
    }
    const body = line.slice(i + 1, close);
    const colon = body.indexOf(':');
    const name = colon < 0 ? body : body.slice(0, colon);
    const value = name === '' ? undefined : lower.get(name.toLowerCase());
    let result: string | undefined;
    if (value !== undefined) {
      if (colon < 0) result = value;
      else {
        const spec = body.slice(colon + 1);
        result = spec.startsWith('~') ? substring(value, spec) : substitute(value, spec);
      }
    }
    if (result === undefined) {
      out += '%';
      i++;
    } else {
      out += result;
      i = close + 1;
    }
  }
  return out;
}

/** The characters cmd /? lists as "special" for its /C quote rule. */
const SLASH_C_SPECIAL = /[&<>()@^|]/;

/**
 * How `cmd /c TEXT` (and /k) treats quotes, exactly as `cmd /?` documents it. Quotes are kept when all of:
 * no /S switch; exactly two quote characters; none of `&<>()@^|` between them; at least one whitespace
 * character between them; and the text between them names an executable file (`isExecutable`). Otherwise,
 * if the first character is a quote, it is removed, and so is the last quote character on the line; text
 * after that last quote stays. Leading blanks after the switch are skipped first.
 */
export async function applySlashCQuotes(
  text: string,
  options: { slashS: boolean; isExecutable: (name: string) => Promise<boolean> },
): Promise<string> {
  const t = text.replace(/^[ \t]+/, '');
  const first = t.indexOf('"');
  const second = first < 0 ? -1 : t.indexOf('"', first + 1);
  if (!options.slashS && second > 0 && t.indexOf('"', second + 1) < 0) {
    const inner = t.slice(first + 1, second);
    if (!SLASH_C_SPECIAL.test(inner) && /[ \t]/.test(inner) && (await options.isExecutable(inner))) return t;
  }
  if (!t.startsWith('"')) return t;
  const last = t.lastIndexOf('"');
  return last === 0 ? t.slice(1) : t.slice(1, last) + t.slice(last + 1);
}

/**
 * Split a program's command-line tail into arguments by the Microsoft C runtime's rules ("Parsing C++
 * command-line arguments"): blanks separate; quotes group and are removed; 2n backslashes before a quote give
 * n and the quote toggles, 2n+1 give n and a literal quote; other backslashes are literal; inside quotes,
 * `""` is one literal quote.
 */
export function msvcrtArgs(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === '\t') i++;
    if (i >= text.length) break;
    let arg = '';
    let quoted = false;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\\') {
        let n = 0;
        while (text[i + n] === '\\') n++;
        if (text[i + n] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          i += n;
          if (n % 2 === 1) arg += '"';
          else i--;
        } else {
          arg += '\\'.repeat(n);
          i += n - 1;
        }
      } else if (c === '"') {
        if (quoted && text[i + 1] === '"') {
          arg += '"';
          i++;
        } else quoted = !quoted;
      } else if ((c === ' ' || c === '\t') && !quoted) break;
      else arg += c;
    }
    args.push(arg);
  }
  return args;
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
