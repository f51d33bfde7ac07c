import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, flattenFieldErrors, readCookie, resetCsrfForTests } from './client';

type FetchArgs = [string, RequestInit | undefined];

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

let fetchMock: ReturnType<typeof vi.fn>;
const calls = () => fetchMock.mock.calls as FetchArgs[];

beforeEach(() => {
  resetCsrfForTests();
  fetchMock = vi.fn();
  vi.stubGlobal('fetch', fetchMock);
  vi.stubGlobal('document', { cookie: 'sessionid=s1; csrftoken=tok%2B1; theme=x' });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('readCookie', () => {
  it('finds and decodes a cookie among others', () => {
    expect(readCookie('csrftoken', 'a=1; csrftoken=ab%3Dc; b=2')).toBe('ab=c');
  });
  it('returns null when the cookie is absent', () => {
    expect(readCookie('csrftoken', 'a=1')).toBeNull();
    expect(readCookie('csrftoken', '')).toBeNull();
  });
});

describe('api client', () => {
  it('GETs JSON with same-origin credentials and no CSRF round trip', async () => {
    fetchMock.mockResolvedValueOnce(json(200, { id: 'u1' }));
    await expect(api.get('/api/auth/me/')).resolves.toEqual({ id: 'u1' });
    expect(calls()).toHaveLength(1);
    const [url, init] = calls()[0]!;
    expect(url).toBe('/api/auth/me/');
    expect(init?.method).toBe('GET');
    expect(init?.credentials).toBe('same-origin');
    expect((init?.headers as Record<string, string>)['X-CSRFToken']).toBeUndefined();
  });

  it('fetches the CSRF cookie once and sends it on unsafe methods', async () => {
    fetchMock
      .mockResolvedValueOnce(new Response(null, { status: 204 })) // csrf
      .mockResolvedValueOnce(json(200, { ok: 1 }))
      .mockResolvedValueOnce(json(200, { ok: 2 }));
    await api.post('/api/family/grants/', { email: 'a@b.c', scopes: ['book'] });
    await api.patch('/api/profile/', { phone: '1' });
    const urls = calls().map(([url]) => url);
    expect(urls).toEqual(['/api/auth/csrf/', '/api/family/grants/', '/api/profile/']);
    const [, postInit] = calls()[1]!;
    const headers = postInit?.headers as Record<string, string>;
    expect(headers['X-CSRFToken']).toBe('tok+1');
    expect(headers['Content-Type']).toBe('application/json');
    expect(postInit?.body).toBe('{"email":"a@b.c","scopes":["book"]}');
    expect(calls()[0]![1]?.credentials).toBe('same-origin');
  });

  it('reads the cookie on every request (Django rotates it at login)', async () => {
    fetchMock
      .mockResolvedValueOnce(new Response(null, { status: 204 }))
      .mockResolvedValueOnce(json(200, {}))
      .mockResolvedValueOnce(json(200, {}));
    await api.post('/api/auth/login/', {});
    vi.stubGlobal('document', { cookie: 'csrftoken=rotated' });
    await api.post('/api/auth/logout/');
    expect((calls()[2]![1]?.headers as Record<string, string>)['X-CSRFToken']).toBe('rotated');
  });

  it('returns undefined for 204 No Content', async () => {
    fetchMock
      .mockResolvedValueOnce(new Response(null, { status: 204 }))
      .mockResolvedValueOnce(new Response(null, { status: 204 }));
    await expect(api.post('/api/auth/logout/')).resolves.toBeUndefined();
  });

  it('throws ApiError with status, code, message and fields from the error shape', async () => {
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 })).mockResolvedValueOnce(
      json(400, {
        error: {
          code: 'invalid',
          message: 'Check the highlighted fields.',
          fields: { password: ['This password is too short.'] },
        },
      }),
    );
    const error = await api.post('/api/auth/register/', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.code).toBe('invalid');
    expect(apiError.message).toBe('Check the highlighted fields.');
    expect(apiError.fields).toEqual({ password: ['This password is too short.'] });
    expect(apiError.fieldErrors).toEqual({ password: ['This password is too short.'] });
  });

  it('maps 401 otp_required so the login form can ask for a code', async () => {
    fetchMock
      .mockResolvedValueOnce(new Response(null, { status: 204 }))
      .mockResolvedValueOnce(
        json(401, { error: { code: 'otp_required', message: 'Enter your code.', fields: {} } }),
      );
    await expect(api.post('/api/auth/login/', {})).rejects.toMatchObject({
      status: 401,
      code: 'otp_required',
      message: 'Enter your code.',
      fields: {},
    });
  });

  it('falls back to a readable error when the body is not the error shape', async () => {
    fetchMock.mockResolvedValueOnce(new Response('<h1>Bad gateway</h1>', { status: 502 }));
    await expect(api.get('/api/profile/')).rejects.toMatchObject({
      status: 502,
      code: 'http_error',
    });
  });

  it('turns a network failure into ApiError network_error', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    await expect(api.get('/api/profile/')).rejects.toMatchObject({
      status: 0,
      code: 'network_error',
    });
  });

  it('fetches a fresh CSRF cookie and retries once after a CSRF failure', async () => {
    fetchMock
      .mockResolvedValueOnce(new Response(null, { status: 204 }))
      .mockResolvedValueOnce(
        json(403, {
          error: { code: 'permission_denied', message: 'CSRF Failed: token missing.', fields: {} },
        }),
      )
      .mockResolvedValueOnce(new Response(null, { status: 204 }))
      .mockResolvedValueOnce(json(200, { done: true }));
    await expect(api.post('/api/family/grants/x/revoke/')).resolves.toEqual({ done: true });
    expect(calls().map(([url]) => url)).toEqual([
      '/api/auth/csrf/',
      '/api/family/grants/x/revoke/',
      '/api/auth/csrf/',
      '/api/family/grants/x/revoke/',
    ]);
  });

  it('sends FormData untouched for uploads (the browser sets the boundary)', async () => {
    fetchMock
      .mockResolvedValueOnce(new Response(null, { status: 204 }))
      .mockResolvedValueOnce(json(200, { photo_url: '/media/p.png' }));
    const form = new FormData();
    form.append('photo', new Blob(['x'], { type: 'image/png' }), 'p.png');
    await api.upload('/api/doctor-profile/photo/', form);
    const [, init] = calls()[1]!;
    expect(init?.body).toBe(form);
    expect((init?.headers as Record<string, string>)['Content-Type']).toBeUndefined();
  });
});

describe('flattenFieldErrors', () => {
  it('flattens nested objects and lists into dotted paths', () => {
    expect(
      flattenFieldErrors({
        email: ['Enter a valid email.'],
        address: { city: ['Required.'] },
        allergies: [{}, { severity: ['"bad" is not a valid choice.'] }],
        non_field_errors: 'Oops.',
      }),
    ).toEqual({
      email: ['Enter a valid email.'],
      'address.city': ['Required.'],
      'allergies.1.severity': ['"bad" is not a valid choice.'],
      non_field_errors: ['Oops.'],
    });
  });
});
