import type { ReactNode } from 'react';

export function EmptyState({
  title,
  children,
  action,
}: {
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="empty-state">
      <p className="empty-state__title">{title}</p>
      {children && <p>{children}</p>}
      {action && (
        <div className="row" style={{ justifyContent: 'center' }}>
          {action}
        </div>
      )}
    </div>
  );
}
