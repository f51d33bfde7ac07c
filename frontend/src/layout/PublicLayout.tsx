import { Outlet } from 'react-router-dom';
import { Brand } from './Brand';

/** Signed-out pages: a centred, narrow column. */
export function PublicLayout() {
  return (
    <div className="public-shell">
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="public-shell__brand">
        <Brand />
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="app-footer">CareConnect · Secure care, wherever you are.</footer>
    </div>
  );
}
