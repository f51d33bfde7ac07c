import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router-dom';
import type { Me } from '../api/types';
import { Alert, Button, LoadingState } from '../components';
import { ActingForBanner } from '../features/acting-for/ActingForBanner';
import { ActingForProvider, useActingFor } from '../features/acting-for/ActingForContext';
import { ActingForSwitcher } from '../features/acting-for/ActingForSwitcher';
import { useCurrentUser } from '../features/auth/session';
import { ChatProvider } from '../features/chat/ChatProvider';
import { NotificationBell } from '../features/notifications/NotificationBell';
import { hasRole, isStaff } from '../lib/roles';
import { Brand } from './Brand';
import { UserMenu } from './UserMenu';

function navItems(me: Me): { to: string; label: string }[] {
  const items = [{ to: '/', label: 'Home' }];
  items.push({ to: '/messages', label: 'Messages' });
  const isPatient = hasRole(me, 'patient');
  const isDoctor = hasRole(me, 'doctor');
  const isAdmin = hasRole(me, 'center_admin') && !!me.center;
  if (isPatient) {
    items.push({ to: '/doctors', label: 'Find a doctor' });
    items.push({ to: '/appointments', label: 'Appointments' });
  } else if (isStaff(me)) {
    items.push({ to: '/appointments', label: 'Appointments' });
  }
  if (isDoctor) items.push({ to: '/week', label: 'My week' });
  else if (isAdmin) items.push({ to: '/week', label: 'Doctor week' });
  if (isDoctor || isAdmin) items.push({ to: '/schedule', label: 'Schedule' });
  if (isPatient || isDoctor) items.push({ to: '/prescriptions', label: 'Prescriptions' });
  if (isPatient || isStaff(me)) items.push({ to: '/payments', label: 'Bills & payments' });
  items.push({ to: '/profile', label: isPatient ? 'Health profile' : 'Profile' });
  if (isPatient) items.push({ to: '/family', label: 'Family' });
  if (isDoctor) items.push({ to: '/doctor-profile', label: 'Public profile' });
  if (isAdmin) items.push({ to: '/center', label: 'My center' });
  if (isAdmin) items.push({ to: '/center/notifications', label: 'Notification log' });
  // Security and notification settings live in the account menu (UserMenu), not here too.
  return items;
}

/** Moves focus to the new page's <h1> after client-side navigation (not on first load). */
function useFocusOnNavigate() {
  const location = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const heading = document.querySelector<HTMLElement>('#main h1');
    heading?.focus({ preventScroll: false });
  }, [location.pathname]);
}

function Shell({ me }: { me: Me }) {
  const { notice, dismissNotice, pending } = useActingFor();
  useFocusOnNavigate();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="topbar">
        <div className="topbar__inner">
          <Brand />
          <nav className="nav" aria-label="Main">
            {navItems(me).map((item) => (
              <NavLink key={item.to} to={item.to} end={item.to === '/' || item.to === '/center'}>
                {item.label}
              </NavLink>
            ))}
          </nav>
          <div className="topbar__acting">
            <ActingForSwitcher />
          </div>
          <div className="topbar__tools">
            <NotificationBell />
            <UserMenu me={me} />
          </div>
        </div>
      </header>
      <ActingForBanner />
      <main id="main" className="main" tabIndex={-1}>
        {notice && (
          <div style={{ marginBottom: 'var(--space-5)' }}>
            <Alert tone="warning" title={notice}>
              <p>You are now acting for yourself again.</p>
              <Button variant="secondary" size="small" onClick={dismissNotice}>
                Dismiss
              </Button>
            </Alert>
          </div>
        )}
        {pending ? <LoadingState /> : <Outlet />}
      </main>
      <footer className="app-footer">
        CareConnect · In an emergency, call your local emergency number.
      </footer>
    </>
  );
}

export function AppLayout() {
  const me = useCurrentUser();
  return (
    <ActingForProvider me={me}>
      <ChatProvider key={me.id} me={me}>
        <Shell me={me} />
      </ChatProvider>
    </ActingForProvider>
  );
}
