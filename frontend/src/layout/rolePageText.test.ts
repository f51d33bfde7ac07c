import { describe, expect, it } from 'vitest';
import { rolePageText } from './RequireAuth';

describe('rolePageText', () => {
  it('names every role that may use the page', () => {
    expect(rolePageText(['patient', 'doctor'])).toBe(
      'This page is for patients (and their family members) and doctors.',
    );
    expect(rolePageText(['doctor', 'nurse', 'center_admin'])).toBe(
      'This page is for doctors, nurses and center administrators.',
    );
    expect(rolePageText(['center_admin'])).toBe('This page is for center administrators.');
  });
});
