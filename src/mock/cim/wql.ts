/**
 * The WQL subset the mock's CIM provider evaluates ([MS-WMI] 2.2.1 WQL grammar, "WQL (SQL for WMI)" on Microsoft
 * Learn): `SELECT * | prop[, prop...] FROM class [WHERE cond]`, cond with `=`, `<>`, `!=`, `<`, `>`, `<=`, `>=`,
 * `LIKE` (`%` any run, `_` one character, `[abc]` a set, as WQL's LIKE operator page describes), `AND`, `OR`, `NOT`,
 * `IS [NOT] NULL` and parentheses. Keywords and property names are case-insensitive, string comparison too (WMI
 * compares strings without case). Anything else is a syntax error, which the provider answers as WMI does
 * ("invalid query").
 */

export type WqlValue = string | number | boolean | null;

export type WqlCond =
  | { op: 'and' | 'or'; left: WqlCond; right: WqlCond }
  | { op: 'not'; inner: WqlCond }
  | { op: 'cmp'; prop: string; cmp: '=' | '<>' | '<' | '>' | '<=' | '>=' | 'like'; value: WqlValue }
  | { op: 'null'; prop: string; negated: boolean };

export interface WqlQuery {
  /** Property names, or undefined for `*`. */
  select: string[] | undefined;
  from: string;
  where: WqlCond | undefined;
}

export class WqlSyntaxError extends Error {
  override name = 'WqlSyntaxError';
}

type Tok = { t: 'id' | 'str' | 'num' | 'op' | 'punct'; v: string };

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) j++; // WQL escapes with a backslash
        s += text[j];
        j++;
      }
      if (j >= text.length) throw new WqlSyntaxError('unterminated string');
      out.push({ t: 'str', v: s });
      i = j + 1;
    } else if (/[0-9-]/.test(c) && /[0-9]/.test(text[i + (c === '-' ? 1 : 0)] ?? '')) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(text.slice(i))!;
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else {
      const two = text.slice(i, i + 2);
      if (two === '<>' || two === '!=' || two === '<=' || two === '>=') {
        out.push({ t: 'op', v: two === '!=' ? '<>' : two });
        i += 2;
      } else if (c === '=' || c === '<' || c === '>') {
        out.push({ t: 'op', v: c });
        i++;
      } else if (c === ',' || c === '(' || c === ')' || c === '*') {
        out.push({ t: 'punct', v: c });
        i++;
      } else {
        throw new WqlSyntaxError(`unexpected character ${c}`);
      }
    }
  }
  return out;
}

export function parseWql(text: string): WqlQuery {
  const toks = tokenize(text);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const isKw = (kw: string): boolean => peek()?.t === 'id' && peek()!.v.toUpperCase() === kw;
  const expectKw = (kw: string): void => {
    if (!isKw(kw)) throw new WqlSyntaxError(`expected ${kw}`);
    p++;
  };
  const ident = (): string => {
    const t = peek();
    if (t?.t !== 'id') throw new WqlSyntaxError('expected a name');
    p++;
    return t.v;
  };
  expectKw('SELECT');
  let select: string[] | undefined;
  if (peek()?.t === 'punct' && peek()!.v === '*') {
    p++;
  } else {
    select = [ident()];
    while (peek()?.t === 'punct' && peek()!.v === ',') {
      p++;
      select.push(ident());
    }
  }
  expectKw('FROM');
  const from = ident();
  let where: WqlCond | undefined;
  const value = (): WqlValue => {
    const t = peek();
    if (!t) throw new WqlSyntaxError('expected a value');
    p++;
    if (t.t === 'str') return t.v;
    if (t.t === 'num') return Number(t.v);
    if (t.t === 'id' && /^(true|false)$/i.test(t.v)) return t.v.toLowerCase() === 'true';
    if (t.t === 'id' && /^null$/i.test(t.v)) return null;
    throw new WqlSyntaxError('expected a value');
  };
  const primary = (): WqlCond => {
    if (isKw('NOT')) {
      p++;
      return { op: 'not', inner: primary() };
    }
    if (peek()?.t === 'punct' && peek()!.v === '(') {
      p++;
      const inner = or();
      if (!(peek()?.t === 'punct' && peek()!.v === ')')) throw new WqlSyntaxError('expected )');
      p++;
      return inner;
    }
    const prop = ident();
    if (isKw('IS')) {
      p++;
      const negated = isKw('NOT');
      if (negated) p++;
      expectKw('NULL');
      return { op: 'null', prop, negated };
    }
    if (isKw('LIKE')) {
      p++;
      const v = value();
      if (typeof v !== 'string') throw new WqlSyntaxError('LIKE takes a string');
      return { op: 'cmp', prop, cmp: 'like', value: v };
    }
    const t = peek();
    if (t?.t !== 'op') throw new WqlSyntaxError('expected an operator');
    p++;
    return { op: 'cmp', prop, cmp: t.v as '=' | '<>' | '<' | '>' | '<=' | '>=', value: value() };
  };
  const and = (): WqlCond => {
    let left = primary();
    while (isKw('AND')) {
      p++;
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): WqlCond => {
    let left = and();
    while (isKw('OR')) {
      p++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  if (isKw('WHERE')) {
    p++;
    where = or();
  }
  if (p !== toks.length) throw new WqlSyntaxError(`unexpected ${toks[p]!.v}`);
  return { select, from, where };
}

/** WQL LIKE as a regular expression: `%`, `_`, `[set]`, `[^set]`; case-insensitive. */
export function likeToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new WqlSyntaxError('unterminated [ in LIKE');
      const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      re += `[${body.startsWith('^') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is');
}

/** Property lookup, case-insensitive; `undefined` when the class has no such property. */
export type PropertyReader = (name: string) => { found: boolean; value: string | string[] | null };

function compare(actual: string, cmp: string, expected: WqlValue): boolean {
  if (cmp === 'like') return likeToRegExp(String(expected)).test(actual);
  let a: string | number = actual.toLowerCase();
  let b: string | number = String(expected).toLowerCase();
  if (typeof expected === 'number' && actual.trim() !== '' && !Number.isNaN(Number(actual))) {
    a = Number(actual);
    b = expected;
  }
  switch (cmp) {
    case '=':
      return a === b;
    case '<>':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    default:
      return a >= b;
  }
}

/** Evaluate a condition; a property the class lacks is a syntax error in WMI's terms ("invalid query"). */
export function evaluate(cond: WqlCond, read: PropertyReader): boolean {
  switch (cond.op) {
    case 'and':
      return evaluate(cond.left, read) && evaluate(cond.right, read);
    case 'or':
      return evaluate(cond.left, read) || evaluate(cond.right, read);
    case 'not':
      return !evaluate(cond.inner, read);
    case 'null': {
      const r = read(cond.prop);
      if (!r.found) throw new WqlSyntaxError(`no property ${cond.prop}`);
      return (r.value === null) !== cond.negated;
    }
    default: {
      const r = read(cond.prop);
      if (!r.found) throw new WqlSyntaxError(`no property ${cond.prop}`);
      if (r.value === null || cond.value === null) return false; // SQL three-valued logic: NULL matches nothing
      const values = Array.isArray(r.value) ? r.value : [r.value];
      return values.some((v) => compare(v, cond.cmp, cond.value));
    }
  }
}
