import { useEffect, useId, useRef, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import type { Me } from '../api/types';
import { fullName, initials } from '../lib/format';
import { ROLE_LABELS } from '../lib/roles';
import { useLogout } from '../features/auth/session';

/** "Account" disclosure: who is signed in, links, and Log out. */
export function UserMenu({ me }: { me: Me }) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const wrapperRef = useRef<HTMLDivElement>(null);
  const location = useLocation();
  const navigate = useNavigate();
  const logout = useLogout();

  // Close when the route changes.
  const [lastPath, setLastPath] = useState(location.pathname);
  if (lastPath !== location.pathname) {
    setLastPath(location.pathname);
    setOpen(false);
  }

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!wrapperRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const onLogout = () => {
    logout.mutate(undefined, {
      onSettled: () => navigate('/login', { replace: true, state: { loggedOut: true } }),
    });
  };

  return (
    <div className="user-menu" ref={wrapperRef}>
      <button
        ref={buttonRef}
        type="button"
        className="user-menu__button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((v) => !v)}
      >
        <span className="avatar" aria-hidden="true">
          {initials(me)}
        </span>
        Account
        <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <div className="user-menu__panel" id={panelId}>
          <div className="user-menu__who">
            <strong>{fullName(me) || me.email}</strong>
            <div className="muted">{me.email}</div>
            <div className="muted">{me.roles.map((r) => ROLE_LABELS[r]).join(', ')}</div>
          </div>
          <ul>
            <li>
              <Link className="user-menu__item" to="/profile">
                My profile
              </Link>
            </li>
            <li>
              <Link className="user-menu__item" to="/security">
                Security
              </Link>
            </li>
            <li>
              <Link className="user-menu__item" to="/settings/notifications">
                Notification settings
              </Link>
            </li>
            <li>
              <button
                type="button"
                className="user-menu__item"
                onClick={onLogout}
                disabled={logout.isPending}
              >
                {logout.isPending ? 'Logging out…' : 'Log out'}
              </button>
            </li>
          </ul>
        </div>
      )}
    </div>
  );
}
