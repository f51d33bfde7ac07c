import { useId, type ReactNode } from 'react';
import type { CardState } from '../../../api/types';

/** The frame of every card in a conversation: title, badge, who sent it, and its body. */
export function CardFrame({
  title,
  badge,
  by,
  state,
  children,
}: {
  title: string;
  badge: ReactNode;
  by: string;
  state: CardState | undefined;
  children: ReactNode;
}) {
  const headingId = useId();
  const tone =
    state === 'completed'
      ? ' chat-card--done'
      : state && state !== 'open'
        ? ' chat-card--closed'
        : '';
  return (
    <article className={`chat-card${tone}`} aria-labelledby={headingId}>
      <div className="chat-card__header">
        <h3 id={headingId}>{title}</h3>
        {badge}
      </div>
      <p className="chat-card__by">{by}</p>
      {children}
    </article>
  );
}
