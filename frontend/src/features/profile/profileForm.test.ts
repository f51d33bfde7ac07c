import { describe, expect, it } from 'vitest';
import type { Profile } from '../../api/types';
import { emptyAllergy, toFormState, toPatch, withoutBlankRows } from './profileForm';

const profile: Profile = {
  id: 'p1',
  email: 'ana@example.test',
  first_name: 'Ana',
  last_name: 'Silva',
  roles: ['patient'],
  date_of_birth: null,
  phone: '',
  address: { line1: '', line2: '', city: 'Lisbon', region: '', postal_code: '', country: 'PT' },
  emergency_contact: null,
  allergies: [{ substance: 'Penicillin', reaction: 'Rash', severity: 'severe' }],
  conditions: [],
  medications: [{ name: 'Metformin', dose: '500 mg', frequency: 'twice a day' }],
  is_dependent: false,
};

describe('profile form', () => {
  it('round-trips a profile into a PATCH body', () => {
    const patch = toPatch(toFormState(profile), true);
    expect(patch).toEqual({
      first_name: 'Ana',
      last_name: 'Silva',
      date_of_birth: null,
      phone: '',
      address: profile.address,
      emergency_contact: null,
      allergies: profile.allergies,
      conditions: [],
      medications: profile.medications,
    });
  });

  it('drops blank rows, trims text and keeps the emergency contact when filled', () => {
    const state = toFormState(profile);
    state.allergies.push(emptyAllergy());
    state.allergies.push({ key: 'k', substance: ' Latex ', reaction: '', severity: 'mild' });
    state.emergency = { name: 'Rui', relationship: 'Brother', phone: ' 123 ' };
    state.date_of_birth = '1990-02-03';
    const patch = toPatch(state, true);
    expect(patch.allergies).toEqual([
      { substance: 'Penicillin', reaction: 'Rash', severity: 'severe' },
      { substance: 'Latex', reaction: '', severity: 'mild' },
    ]);
    expect(patch.emergency_contact).toEqual({ name: 'Rui', relationship: 'Brother', phone: '123' });
    expect(patch.date_of_birth).toBe('1990-02-03');
    expect(withoutBlankRows(state).allergies).toHaveLength(2);
  });

  it('leaves health lists out for accounts without a health summary', () => {
    const patch = toPatch(toFormState(profile), false);
    expect(patch).not.toHaveProperty('allergies');
    expect(patch).not.toHaveProperty('medications');
  });
});
