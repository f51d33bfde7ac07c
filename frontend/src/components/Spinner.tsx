export function Spinner({ large = false }: { large?: boolean }) {
  return <span className={large ? 'spinner spinner--large' : 'spinner'} aria-hidden="true" />;
}

/** A designed loading state for a page or a card. */
export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading-state" role="status" aria-live="polite">
      <Spinner large />
      <span>{label}</span>
    </div>
  );
}
