import { useEffect, type ReactNode } from 'react';

export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · CareConnect` : 'CareConnect';
  }, [title]);
}

/** The page's single <h1> (focusable so route changes can move focus to it). */
export function PageHeader({
  title,
  description,
  actions,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div className="row">
        <h1 tabIndex={-1} style={{ margin: 0 }}>
          {title}
        </h1>
        {actions && (
          <>
            <span className="spacer" />
            <div className="row">{actions}</div>
          </>
        )}
      </div>
      {description && <p style={{ marginTop: 'var(--space-2)' }}>{description}</p>}
    </header>
  );
}

/** Title + <h1> + content: the frame of every page. */
export function Page({
  title,
  heading,
  description,
  actions,
  children,
}: {
  title: string;
  heading?: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  children?: ReactNode;
}) {
  usePageTitle(title);
  return (
    <>
      <PageHeader title={heading ?? title} description={description} actions={actions} />
      <div className="stack">{children}</div>
    </>
  );
}
