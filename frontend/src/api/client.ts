/**
 * The one fetch wrapper for the CareConnect API.
 *
 * - same-origin credentials (the Django session cookie),
 * - JSON in and out (FormData is passed through for uploads),
 * - CSRF: `GET /api/auth/csrf/` once per page load, then the `csrftoken` cookie value is sent as
 *   `X-CSRFToken` on every unsafe method (the cookie is read on each request because Django
 *   rotates it at login),
 * - the API error shape `{"error": {code, message, fields}}` becomes a thrown `ApiError`.
 */

export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The raw `error.fields` from the server (may be nested for lists and objects). */
  readonly fields: Record<string, unknown>;
  /** `fields` flattened to dotted paths: `address.city`, `allergies.1.severity`. */
  readonly fieldErrors: FieldErrors;

  constructor(status: number, code: string, message: string, fields: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.fieldErrors = flattenFieldErrors(fields);
  }
}

export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}

/** Flattens DRF-style nested field errors into `{ "a.b.0.c": ["problem"] }`. */
export function flattenFieldErrors(fields: unknown, prefix = ''): FieldErrors {
  const out: FieldErrors = {};
  const add = (key: string, message: string) => {
    (out[key] ??= []).push(message);
  };
  const walk = (value: unknown, path: string) => {
    if (value === null || value === undefined) return;
    if (typeof value === 'string') {
      add(path, value);
    } else if (Array.isArray(value)) {
      if (value.every((item) => typeof item === 'string')) {
        for (const item of value) add(path, item as string);
      } else {
        value.forEach((item, index) => walk(item, path ? `${path}.${index}` : String(index)));
      }
    } else if (typeof value === 'object') {
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        walk(item, path ? `${path}.${key}` : key);
      }
    }
  };
  walk(fields, prefix);
  return out;
}

export function readCookie(name: string, cookies: string): string | null {
  for (const part of cookies.split(';')) {
    const [rawKey, ...rest] = part.split('=');
    if (rawKey?.trim() === name) {
      return decodeURIComponent(rest.join('=').trim());
    }
  }
  return null;
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CSRF_URL = '/api/auth/csrf/';
const NETWORK_MESSAGE = 'Could not reach CareConnect. Check your connection and try again.';

let csrfReady: Promise<void> | null = null;

function currentCookies(): string {
  return typeof document === 'undefined' ? '' : document.cookie;
}

function ensureCsrf(): Promise<void> {
  csrfReady ??= fetch(CSRF_URL, { credentials: 'same-origin' }).then(
    () => undefined,
    (error: unknown) => {
      csrfReady = null; // try again on the next unsafe request
      throw error;
    },
  );
  return csrfReady;
}

/** For tests: forget that the CSRF cookie was fetched. */
export function resetCsrfForTests(): void {
  csrfReady = null;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
}

async function parseBody(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toApiError(status: number, body: unknown): ApiError {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (error && typeof error === 'object') {
      const { code, message, fields } = error as Record<string, unknown>;
      return new ApiError(
        status,
        typeof code === 'string' ? code : 'error',
        typeof message === 'string' && message ? message : defaultMessage(status),
        fields && typeof fields === 'object' ? (fields as Record<string, unknown>) : {},
      );
    }
  }
  return new ApiError(
    status,
    status === 0 ? 'network_error' : 'http_error',
    defaultMessage(status),
  );
}

function defaultMessage(status: number): string {
  if (status === 401) return 'Please log in to continue.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'We could not find what you were looking for.';
  if (status === 413) return 'That is too large to upload.';
  if (status === 429) return 'Too many attempts. Please wait a moment and try again.';
  if (status >= 500) return 'Something went wrong on our side. Please try again in a moment.';
  return `The request failed (status ${status}).`;
}

function isCsrfFailure(status: number, body: unknown): boolean {
  if (status !== 403 || !body || typeof body !== 'object') return false;
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
  return (
    error?.code === 'csrf_failed' ||
    (typeof error?.message === 'string' && error.message.toUpperCase().startsWith('CSRF'))
  );
}

export async function apiFetch<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const unsafe = UNSAFE_METHODS.has(method);

  const send = async (): Promise<Response> => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: BodyInit | undefined;
    if (options.body instanceof FormData) {
      body = options.body; // the browser sets the multipart boundary
    } else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (unsafe) {
      await ensureCsrf();
      const token = readCookie('csrftoken', currentCookies());
      if (token) headers['X-CSRFToken'] = token;
    }
    return fetch(path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  };

  let response: Response;
  try {
    response = await send();
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', NETWORK_MESSAGE);
  }
  let parsed = await parseBody(response);

  if (unsafe && isCsrfFailure(response.status, parsed)) {
    // The cookie was missing or stale (e.g. cleared in another tab): fetch a fresh one, retry once.
    csrfReady = null;
    try {
      response = await send();
    } catch {
      throw new ApiError(0, 'network_error', NETWORK_MESSAGE);
    }
    parsed = await parseBody(response);
  }

  if (!response.ok) throw toApiError(response.status, parsed);
  return parsed as T;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => apiFetch<T>(path, { signal }),
  post: <T>(path: string, body: unknown = {}) => apiFetch<T>(path, { method: 'POST', body }),
  patch: <T>(path: string, body: unknown) => apiFetch<T>(path, { method: 'PATCH', body }),
  put: <T>(path: string, body: unknown) => apiFetch<T>(path, { method: 'PUT', body }),
  delete: <T>(path: string) => apiFetch<T>(path, { method: 'DELETE' }),
  upload: <T>(path: string, form: FormData) => apiFetch<T>(path, { method: 'POST', body: form }),
};
