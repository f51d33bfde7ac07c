import { useId, type ReactNode } from 'react';

export function Card({
  title,
  description,
  actions,
  headingLevel = 2,
  children,
  className,
  labelledBy,
  id,
}: {
  title?: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
  headingLevel?: 2 | 3;
  children?: ReactNode;
  className?: string;
  labelledBy?: string;
  id?: string;
}) {
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  const generatedId = useId();
  // Every titled card is a named region, so it can be found by its heading (screen readers, tests).
  const headingId = id ? `${id}-title` : generatedId;
  return (
    <section
      className={['card', className].filter(Boolean).join(' ')}
      aria-labelledby={labelledBy ?? (title ? headingId : undefined)}
      id={id}
    >
      {(title || actions) && (
        <div className="card__header">
          {title && <Heading id={headingId}>{title}</Heading>}
          {actions && <div className="row">{actions}</div>}
          {description && <p className="card__description">{description}</p>}
        </div>
      )}
      {children}
    </section>
  );
}
