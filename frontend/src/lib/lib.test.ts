import { describe, expect, it } from 'vitest';
import { endOfDayIso, todayInput } from './dates';
import { backupCodesText, MAX_PHOTO_BYTES, photoProblem } from './files';
import { formatDate, fullName, initials } from './format';
import { formatMoney, parseMoneyInput } from './money';
import { loginPath, safeNext } from './navigation';
import { hasRole, isStaff } from './roles';
import { scopeLabels } from './scopes';
import { svgDataUrl } from './svg';

describe('safeNext', () => {
  it('keeps same-site paths', () => {
    expect(safeNext('/family/accept?grant=abc')).toBe('/family/accept?grant=abc');
  });
  it('refuses other origins and odd input', () => {
    expect(safeNext('https://evil.test/')).toBe('/');
    expect(safeNext('//evil.test/')).toBe('/');
    expect(safeNext('/\\evil.test')).toBe('/');
    expect(safeNext('/ok\n')).toBe('/');
    expect(safeNext(null)).toBe('/');
    expect(safeNext('', '/home')).toBe('/home');
  });
  it('builds a login path that returns to the page', () => {
    expect(loginPath('/family/accept?grant=1')).toBe('/login?next=%2Ffamily%2Faccept%3Fgrant%3D1');
    expect(loginPath('/')).toBe('/login');
  });
});

describe('dates', () => {
  it('turns a picked date into the end of that local day', () => {
    const iso = endOfDayIso('2026-05-01');
    expect(iso).not.toBeNull();
    const date = new Date(iso!);
    expect([date.getFullYear(), date.getMonth(), date.getDate()]).toEqual([2026, 4, 1]);
    expect([date.getHours(), date.getMinutes()]).toEqual([23, 59]);
  });
  it('rejects empty or malformed dates', () => {
    expect(endOfDayIso('')).toBeNull();
    expect(endOfDayIso('01/05/2026')).toBeNull();
    expect(endOfDayIso('2026-13-45')).toBeNull();
  });
  it('formats today for date inputs', () => {
    expect(todayInput(new Date(2026, 0, 9))).toBe('2026-01-09');
  });
});

describe('format', () => {
  it('joins names and initials', () => {
    expect(fullName({ first_name: 'Ana', last_name: 'Silva' })).toBe('Ana Silva');
    expect(fullName({ first_name: 'Ana', last_name: '' })).toBe('Ana');
    expect(fullName(null)).toBe('');
    expect(initials({ first_name: 'ana', last_name: 'silva' })).toBe('AS');
    expect(initials({ first_name: '', last_name: '', email: 'x@y.z' })).toBe('X');
  });
  it('formats dates and tolerates bad input', () => {
    expect(formatDate('2026-03-12')).toBe('12 Mar 2026');
    expect(formatDate(null)).toBe('');
    expect(formatDate('nope')).toBe('');
  });
});

describe('money', () => {
  it('parses amounts to two decimals', () => {
    expect(parseMoneyInput('35', 'USD')).toEqual({
      ok: true,
      value: { amount: '35.00', currency: 'USD' },
    });
    expect(parseMoneyInput('35,5', 'EUR')).toEqual({
      ok: true,
      value: { amount: '35.50', currency: 'EUR' },
    });
    expect(parseMoneyInput('  ', 'USD')).toEqual({ ok: true, value: null });
  });
  it('refuses malformed amounts', () => {
    expect(parseMoneyInput('-3', 'USD').ok).toBe(false);
    expect(parseMoneyInput('3.999', 'USD').ok).toBe(false);
    expect(parseMoneyInput('abc', 'USD').ok).toBe(false);
  });
  it('formats money with the currency', () => {
    expect(formatMoney({ amount: '35.00', currency: 'USD' })).toContain('35');
    expect(formatMoney(null)).toBe('');
  });
});

describe('files', () => {
  it('accepts JPEG/PNG up to 2 MB only', () => {
    expect(photoProblem({ type: 'image/png', size: 1000 })).toBeNull();
    expect(photoProblem({ type: 'image/jpeg', size: MAX_PHOTO_BYTES })).toBeNull();
    expect(photoProblem({ type: 'image/gif', size: 10 })).toMatch(/JPEG or PNG/);
    expect(photoProblem({ type: 'image/png', size: MAX_PHOTO_BYTES + 1 })).toMatch(/2 MB/);
  });
  it('writes backup codes one per line', () => {
    const text = backupCodesText(['a1', 'b2'], 'me@x.test');
    expect(text).toContain('me@x.test');
    expect(text.split('\n')).toContain('a1');
    expect(text.split('\n')).toContain('b2');
  });
});

describe('svgDataUrl', () => {
  it('encodes the SVG so it can only be used as an image', () => {
    const url = svgDataUrl('<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>');
    expect(url.startsWith('data:image/svg+xml;charset=utf-8,')).toBe(true);
    expect(url).not.toContain('<');
    expect(decodeURIComponent(url.split(',')[1]!)).toContain('<svg');
  });
  it('adds the SVG namespace that standalone images need', () => {
    const url = svgDataUrl(
      '<?xml version="1.0"?>\n<svg width="10" class="segno"><path d="M0 0h1"/></svg>',
    );
    const svg = decodeURIComponent(url.split(',')[1]!);
    expect(svg).toContain('<svg xmlns="http://www.w3.org/2000/svg" width="10" class="segno">');
    expect(svg.startsWith('<?xml')).toBe(true);
  });
  it('keeps an existing namespace untouched', () => {
    const input = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"></svg>';
    expect(decodeURIComponent(svgDataUrl(input).split(',')[1]!)).toBe(input);
  });
});

describe('roles and scopes', () => {
  it('knows staff roles', () => {
    expect(isStaff({ roles: ['doctor'] })).toBe(true);
    expect(isStaff({ roles: ['patient'] })).toBe(false);
    expect(hasRole({ roles: ['patient', 'center_admin'] }, 'center_admin')).toBe(true);
    expect(hasRole(null, 'patient')).toBe(false);
  });
  it('lists scope labels in a stable order', () => {
    expect(scopeLabels(['view_records', 'book'])).toEqual([
      'Book appointments',
      'View health records',
    ]);
  });
});
