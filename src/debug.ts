/**
 * Debug logging, off unless `DEBUG` matches `winrm-connection:*` (or a namespace such as
 * `winrm-connection:http`) or a `logger` is passed in the options. Everything logged goes through a redactor:
 * Authorization headers and every registered secret (password, secret command arguments) are masked.
 */

/** Receives debug lines. Default: writes to stderr when DEBUG enables the namespace. */
export type Logger = (namespace: string, message: string) => void;

// Answers per namespace for the DEBUG value they were computed from; DEBUG may change at run time (tests do).
let cachedSpec: string | undefined;
const cachedAnswers = new Map<string, boolean>();

function debugEnabled(namespace: string): boolean {
  const spec = process.env.DEBUG ?? '';
  if (spec !== cachedSpec) {
    cachedSpec = spec;
    cachedAnswers.clear();
  }
  let on = cachedAnswers.get(namespace);
  if (on === undefined) {
    on = spec.split(/[\s,]+/).some((p) => {
      if (!p || p.startsWith('-')) return false;
      const re = new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      return re.test(namespace);
    });
    cachedAnswers.set(namespace, on);
  }
  return on;
}

const REDACTED = '[redacted]';

export class DebugLog {
  private readonly secrets = new Set<string>();

  constructor(private readonly logger?: Logger) {}

  /** Register a value that must never be printed (plus its base64 and UTF-16 forms). */
  addSecret(value: string | undefined): void {
    if (!value || value.length < 3) return;
    this.secrets.add(value);
    this.secrets.add(Buffer.from(value).toString('base64').replace(/=+$/, ''));
  }

  enabled(namespace: string): boolean {
    return this.logger !== undefined || debugEnabled(`winrm-connection:${namespace}`);
  }

  redact(text: string): string {
    let out = text.replace(
      /(authorization:\s*)(\S+)(\s+)?(\S+)?/gi,
      (_m, h: string, scheme: string, sp?: string) => (sp ? `${h}${scheme} ${REDACTED}` : `${h}${REDACTED}`),
    );
    for (const s of this.secrets) out = out.split(s).join(REDACTED);
    return out;
  }

  log(namespace: string, message: string | (() => string)): void {
    if (!this.enabled(namespace)) return;
    const text = this.redact(typeof message === 'function' ? message() : message);
    const ns = `winrm-connection:${namespace}`;
    if (this.logger) this.logger(ns, text);
    else process.stderr.write(`${ns} ${text}\n`);
  }
}
