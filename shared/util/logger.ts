/**
 * Structured JSON logs, one line each, in the shape CloudWatch Logs Insights and Powertools users expect.
 * Only messages and chosen fields are written: never request bodies, keys or stack traces of user input.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  options: {
    level?: LogLevel;
    service?: string;
    write?: (line: string) => void;
    base?: Record<string, unknown>;
  } = {},
): Logger {
  const level = options.level ?? parseLevel(process.env.LOG_LEVEL);
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const base = { service: options.service ?? 'h20-tracker', ...options.base };
  const log =
    (at: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields: Record<string, unknown> = {}): void => {
      if (ORDER[at] < ORDER[level]) return;
      write(JSON.stringify({ level: at, time: new Date().toISOString(), message, ...base, ...fields }));
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger({ level, write, service: base.service, base: { ...base, ...fields } }),
  };
}

function parseLevel(value: string | undefined): LogLevel {
  return value && value in ORDER ? (value as LogLevel) : 'info';
}

/** The name and code of an error, without its message or stack: safe to log for any input. */
export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { errorName: error.name, ...(typeof code === 'string' ? { errorCode: code } : {}) };
  }
  return { errorName: typeof error };
}
