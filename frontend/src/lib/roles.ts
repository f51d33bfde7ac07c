import type { Me, Role } from '../api/types';

export function hasRole(me: Pick<Me, 'roles'> | null | undefined, role: Role): boolean {
  return !!me && me.roles.includes(role);
}

export function isStaff(me: Pick<Me, 'roles'> | null | undefined): boolean {
  return !!me && me.roles.some((r) => r === 'doctor' || r === 'nurse' || r === 'center_admin');
}

export const ROLE_LABELS: Record<Role, string> = {
  patient: 'Patient',
  doctor: 'Doctor',
  nurse: 'Nurse',
  center_admin: 'Center admin',
  platform_admin: 'Platform admin',
};
