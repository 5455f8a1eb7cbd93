/**
 * Debug logging, off unless `DEBUG` enables a `winrm-connection:*` namespace or a `logger` is passed in the
 * options. `DEBUG` follows the conventions of the `debug` npm package (4.x): patterns separated by commas or
 * spaces, `*` matches any run of characters, a pattern starting with `-` excludes, and an exclusion wins over
 * every inclusion whatever their order (`DEBUG=winrm-connection:*,-winrm-connection:wsman`).
 *
 * Everything logged goes through a redactor: Authorization header values and every registered secret
 * (password, secret command arguments) in each encoded form the library produces are masked. Payloads are
 * summarised: `<rsp:Stream>` contents (stdin, stdout, stderr) are never logged, only their size, and a line
 * longer than {@link DEFAULT_MAX_LOG_LINE_CHARS} keeps its head plus `... (N bytes)`.
 */
import { inspect } from 'node:util';
import { escapeCmdMeta, quoteMsvcrt } from './cmdline.ts';

/** Receives debug lines. Default: writes to stderr when DEBUG enables the namespace. */
export type Logger = (namespace: string, message: string) => void;

/** What every masked value is replaced with, in logs, errors and inspect output. */
export const REDACTED = '[redacted]';

/**
 * A value that must never be printed: `String(secret)`, `JSON.stringify`, `util.inspect` and `console.log`
 * show `[redacted]`; only {@link Secret.reveal} gives the value. `related` are longer strings built from the
 * value that also travel (for Basic: `user:password`, sent base64-encoded); a redactor masks their forms too.
 */
export class Secret {
  readonly #value: string;
  readonly #related: readonly string[];

  constructor(value: string, options: { related?: readonly string[] } = {}) {
    this.#value = value;
    this.#related = options.related ?? [];
  }

  /** The value itself: give it only to the code that sends it. */
  reveal(): string {
    return this.#value;
  }

  /** Strings containing the value that are sent (encoded) as well; see the class comment. */
  related(): readonly string[] {
    return this.#related;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret ${REDACTED}`;
  }
}

/** The plain text of a secret given as a string or a {@link Secret}. */
export function revealSecret(value: string | Secret): string {
  return typeof value === 'string' ? value : value.reveal();
}

// Answers per namespace for the DEBUG value they were computed from; DEBUG may change at run time (tests do).
let cachedSpec: string | undefined;
let cachedPatterns: { names: RegExp[]; skips: RegExp[] } = { names: [], skips: [] };
const cachedAnswers = new Map<string, boolean>();

function template(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

/** Parse a DEBUG value as the `debug` package does: split on commas and whitespace, `-` marks an exclusion. */
export function parseDebugSpec(spec: string): { names: RegExp[]; skips: RegExp[] } {
  const names: RegExp[] = [];
  const skips: RegExp[] = [];
  for (const p of spec.trim().split(/[\s,]+/)) {
    if (!p || p === '-') continue;
    if (p.startsWith('-')) skips.push(template(p.slice(1)));
    else names.push(template(p));
  }
  return { names, skips };
}

/** Whether `namespace` is enabled by the DEBUG value `spec` (exclusions win, as in the `debug` package). */
export function debugSpecEnables(spec: string, namespace: string): boolean {
  if (spec !== cachedSpec) {
    cachedSpec = spec;
    cachedPatterns = parseDebugSpec(spec);
    cachedAnswers.clear();
  }
  let on = cachedAnswers.get(namespace);
  if (on === undefined) {
    on =
      !cachedPatterns.skips.some((re) => re.test(namespace)) &&
      cachedPatterns.names.some((re) => re.test(namespace));
    cachedAnswers.set(namespace, on);
  }
  return on;
}

function debugEnabled(namespace: string): boolean {
  return debugSpecEnables(process.env.DEBUG ?? '', namespace);
}

/** Longest debug line, in characters, before it is cut to its head plus `... (N bytes)`. Default: 4096. */
export const DEFAULT_MAX_LOG_LINE_CHARS = 4096;

/** Shortest string that is masked (shorter ones would mask ordinary text). */
const MIN_SECRET_CHARS = 3;
/** Shortest base64 fragment of a secret that is masked. */
const MIN_BASE64_CHARS = 4;

const XML_TEXT: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const XML_ATTR: Readonly<Record<string, string>> = { ...XML_TEXT, '"': '&quot;', "'": '&apos;' };
const XML_NUMERIC = (ch: string) => `&#${ch.codePointAt(0)};`;

function xmlForms(text: string): string[] {
  return [
    text.replace(/[&<>]/g, (c) => XML_TEXT[c]!),
    text.replace(/[&<>"']/g, (c) => XML_ATTR[c]!),
    text.replace(/&/g, '&amp;'),
    text.replace(/[&<>"']/g, XML_NUMERIC),
  ];
}

/**
 * The base64 characters that depend only on `bytes`, wherever `bytes` sit in a longer base64-encoded stream:
 * for each of the three alignments, the characters whose 6 bits all come from `bytes`.
 */
export function base64Fragments(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const b64 = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const fragment = b64.slice(first, end);
    if (fragment.length >= MIN_BASE64_CHARS) out.push(fragment);
  }
  // The whole encoding too, padding included, as it appears when the value is encoded alone (a header token).
  out.push(bytes.toString('base64'));
  return out;
}

/** Every form in which the library may write `value`: as is, quoted, caret-escaped, XML-escaped, base64. */
export function encodedForms(value: string): string[] {
  const quoted = quoteMsvcrt(value);
  const textForms = [value, quoted, escapeCmdMeta(value), escapeCmdMeta(quoted)];
  const forms = new Set<string>();
  for (const t of textForms) {
    forms.add(t);
    for (const x of xmlForms(t)) forms.add(x);
  }
  // base64 in Send streams and headers (UTF-8), and powershell -EncodedCommand (UTF-16LE).
  for (const t of [value, escapeCmdMeta(quoted)]) {
    for (const f of base64Fragments(Buffer.from(t, 'utf8'))) forms.add(f);
    for (const f of base64Fragments(Buffer.from(t, 'utf16le'))) forms.add(f);
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET_CHARS);
}

// `Authorization: Basic xyz`, `Proxy-Authorization: NTLM xyz`, `"authorization":"Negotiate xyz"` (echoed as
// JSON by a proxy), `authorization: [ 'Basic xyz' ]` (util.inspect of headers), `authorization=xyz`: the scheme
// stays, the credentials go.
const AUTHORIZATION =
  /(authorization["']?\s*[:=]\s*(?:\[\s*)?["']?)(?:([A-Za-z][\w-]*)[ \t]+(?=[\w+/=.~-]))?([\w+/=.~-]+)/gi;

const STREAM = /(<(?:[\w-]+:)?Stream\b[^>]*>)([^<]*)(<\/(?:[\w-]+:)?Stream>)/g;

/** `<rsp:Stream>` contents replaced by their size: payloads are never logged. */
export function summarizeStreams(text: string): string {
  if (!text.includes('Stream')) return text;
  return text.replace(STREAM, (_m, open: string, body: string, close: string) => {
    const b64 = body.trim();
    if (b64 === '') return `${open}${close}`;
    const bytes = Math.floor((b64.length * 3) / 4) - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
    return `${open}[${bytes} bytes not logged]${close}`;
  });
}

export interface DebugLogOptions {
  /** Longest line in characters; longer lines keep their head plus `... (N bytes)`. Default: 4096. */
  maxLineChars?: number;
}

export class DebugLog {
  readonly #logger: Logger | undefined;
  readonly #secrets = new Set<string>();
  readonly #maxLineChars: number;
  #pattern: RegExp | undefined;
  #longest = 0;

  constructor(logger?: Logger, options: DebugLogOptions = {}) {
    this.#logger = logger;
    this.#maxLineChars = options.maxLineChars ?? DEFAULT_MAX_LOG_LINE_CHARS;
  }

  /**
   * Register a value that must never be printed, in every form the library writes it (see
   * {@link encodedForms}); a {@link Secret}'s related strings are registered the same way.
   */
  addSecret(value: string | Secret | undefined): void {
    if (value === undefined) return;
    const values = typeof value === 'string' ? [value] : [value.reveal(), ...value.related()];
    for (const v of values) {
      if (!v || v.length < MIN_SECRET_CHARS) continue;
      for (const f of encodedForms(v)) {
        if (this.#secrets.has(f)) continue;
        this.#secrets.add(f);
        this.#pattern = undefined;
      }
    }
  }

  enabled(namespace: string): boolean {
    return this.#logger !== undefined || debugEnabled(`winrm-connection:${namespace}`);
  }

  /** `text` with Authorization values and every form of every registered secret masked. */
  redact(text: string): string {
    const out = text.replace(AUTHORIZATION, (_m, head: string, scheme: string | undefined) =>
      scheme ? `${head}${scheme} ${REDACTED}` : `${head}${REDACTED}`,
    );
    const pattern = this.#compile();
    return pattern ? out.replace(pattern, REDACTED) : out;
  }

  /**
   * A redacted excerpt of a server's answer, for an error: its first `maxChars` characters (default 512),
   * masked before the cut, so a secret at the edge cannot survive cut in half.
   */
  excerpt(body: Buffer | string, maxChars = 512): string {
    this.#compile();
    const length = maxChars + this.#longest;
    // UTF-8 takes at most 4 bytes a character.
    const text = typeof body === 'string' ? body : body.subarray(0, length * 4).toString('utf8');
    return this.redact(text.slice(0, length)).slice(0, maxChars);
  }

  #compile(): RegExp | undefined {
    if (this.#secrets.size === 0) return undefined;
    if (!this.#pattern) {
      // Longest first, so a form containing a shorter one is masked whole.
      const forms = [...this.#secrets].sort((a, b) => b.length - a.length);
      this.#longest = forms[0]!.length;
      this.#pattern = new RegExp(forms.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    }
    return this.#pattern;
  }

  log(namespace: string, message: string | (() => string)): void {
    if (!this.enabled(namespace)) return;
    const raw = typeof message === 'function' ? message() : message;
    let text = this.redact(summarizeStreams(raw));
    if (text.length > this.#maxLineChars) {
      text = `${text.slice(0, this.#maxLineChars)}... (${Buffer.byteLength(raw)} bytes)`;
    }
    const ns = `winrm-connection:${namespace}`;
    if (this.#logger) this.#logger(ns, text);
    else process.stderr.write(`${ns} ${text}\n`);
  }

  [inspect.custom](): string {
    return `DebugLog { secrets: ${this.#secrets.size} ${REDACTED} }`;
  }

  toJSON(): object {
    return { secrets: REDACTED };
  }
}
