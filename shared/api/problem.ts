/**
 * RFC 9457 problem details: the one error type of the API, mapped to a response in one place (`app.onError`).
 */
export interface ProblemIssue {
  index?: number;
  path: string;
  message: string;
}

/** The media type of every error answer, wherever it is written. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export const PROBLEM_TITLES = {
  validation: 'Your request is not valid',
  'malformed-json': 'The body is not valid JSON',
  'bad-request': 'The request is not valid HTTP',
  'headers-too-large': 'Request header fields too large',
  'uri-too-long': 'The request target is too long',
  'request-timeout': 'The request took too long to arrive',
  'not-implemented': 'This server does not implement that',
  'http-version-not-supported': 'HTTP version not supported',
  unauthorized: 'Missing or unknown API key',
  forbidden: 'This key may not do that',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  conflict: 'Event id already used for other content',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'not-acceptable': 'Not acceptable',
  'bus-unavailable': 'Some events could not be handed to the event bus',
  'service-unavailable': 'Service temporarily unavailable',
  internal: 'Internal error',
} as const;

export type ProblemSlug = keyof typeof PROBLEM_TITLES;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ProblemIssue[];
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  readonly slug: ProblemSlug;
  readonly status: number;
  readonly detail: string;
  readonly errors: ProblemIssue[] | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    slug: ProblemSlug,
    status: number,
    detail: string,
    options: {
      errors?: ProblemIssue[];
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.slug = slug;
    this.status = status;
    this.detail = detail;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toBody(): ProblemBody {
    return {
      type: `/problems/${this.slug}`,
      title: PROBLEM_TITLES[this.slug],
      status: this.status,
      detail: this.detail,
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extensions,
    };
  }
}

export const validationProblem = (detail: string, errors: ProblemIssue[]): ProblemError =>
  new ProblemError('validation', 400, detail, { errors });

/** The answer while a backing service is out: a 503 worth retrying soon, with `extensions` when given. */
export function serviceUnavailable(
  detail = 'A backing service is unavailable; try again shortly.',
  extensions?: Record<string, unknown>,
): ProblemError {
  return new ProblemError('service-unavailable', 503, detail, {
    ...(extensions ? { extensions } : {}),
    headers: { 'Retry-After': '1' },
  });
}

/** Client faults that are the backend's passing trouble, not a mistake in our request. */
const TRANSIENT_CLIENT_FAULTS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'LimitExceededException',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/**
 * An outage, throttling or a network failure is the backend's trouble: answer 503, not 500. A request the
 * service refused as invalid (a `ValidationException`, say) is a bug of ours and stays a 500.
 */
export function isServiceError(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $retryable?: unknown; code?: string };
  return (
    e.$fault === 'server' ||
    e.$retryable !== undefined ||
    TRANSIENT_CLIENT_FAULTS.has(e.name ?? '') ||
    e.name === 'TimeoutError' ||
    NETWORK_CODES.has(e.code ?? '')
  );
}
