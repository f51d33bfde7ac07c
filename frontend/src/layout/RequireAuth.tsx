import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import type { Role } from '../api/types';
import { ButtonLink, ErrorState, LoadingState, Page } from '../components';
import { useMe } from '../features/auth/session';
import { loginPath } from '../lib/navigation';
import { hasRole } from '../lib/roles';

/**
 * Signed-in area: waits for GET /api/auth/me/, sends signed-out visitors to /login?next=…,
 * and staff who must set up two-factor authentication to /security.
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) {
    return (
      <main id="main" className="main">
        <LoadingState label="Loading CareConnect…" />
      </main>
    );
  }
  if (me.isError) {
    return (
      <main id="main" className="main main--narrow">
        <h1>CareConnect</h1>
        <ErrorState error={me.error} onRetry={() => void me.refetch()} />
      </main>
    );
  }
  if (!me.data) {
    return <Navigate to={loginPath(location.pathname + location.search)} replace />;
  }
  if (me.data.mfa_setup_required && location.pathname !== '/security') {
    return <Navigate to="/security" replace />;
  }
  return <>{children}</>;
}

function asList(role: Role | Role[]): Role[] {
  return Array.isArray(role) ? role : [role];
}

const ROLE_NAMES: Record<Role, string> = {
  patient: 'patients (and their family members)',
  doctor: 'doctors',
  nurse: 'nurses',
  center_admin: 'center administrators',
  platform_admin: 'platform administrators',
};

/** "This page is for patients (and their family members) and doctors." */
export function rolePageText(roles: readonly Role[]): string {
  const names = roles.map((r) => ROLE_NAMES[r]);
  if (names.length === 0) return 'Your account cannot use this page.';
  const list =
    names.length === 1
      ? names[0]
      : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `This page is for ${list}.`;
}

/**
 * A page only some roles can use (any one of `role`); others see an explanation rather than a
 * broken page.
 */
export function RequireRole({ role, children }: { role: Role | Role[]; children: ReactNode }) {
  const { data: me } = useMe();
  const roles = asList(role);
  if (roles.some((r) => hasRole(me, r))) return <>{children}</>;
  return (
    <Page title="Not available" heading="This page isn't available to you">
      <p>{rolePageText(roles)}</p>
      <ButtonLink to="/">Go to home</ButtonLink>
    </Page>
  );
}
