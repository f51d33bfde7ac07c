import { useState } from 'react';
import { Button, ErrorAlert, ErrorState, LoadingState, TextArea } from '../../components';
import { formatWhen } from './format';
import { useConsultNote, useSaveNote } from './api';
import type { ConsultNote } from './types';
import { useNow } from './useNow';

/** The doctor's private visit note for this consult (during and after the call). */
export function VisitNote({ consultId, zone }: { consultId: string; zone: string }) {
  const note = useConsultNote(consultId, true);
  return (
    <section className="card stack-sm" aria-label="Visit note">
      {note.isPending ? (
        <LoadingState label="Loading your note…" />
      ) : note.isError ? (
        <ErrorState
          error={note.error}
          title="We could not load your note"
          onRetry={() => void note.refetch()}
        />
      ) : (
        <NoteEditor consultId={consultId} saved={note.data} zone={zone} />
      )}
    </section>
  );
}

function NoteEditor({
  consultId,
  saved,
  zone,
}: {
  consultId: string;
  saved: ConsultNote;
  zone: string;
}) {
  const [text, setText] = useState(saved.text);
  const save = useSaveNote(consultId);
  const now = useNow(60_000);
  const unsaved = text !== saved.text;
  return (
    <form
      className="stack-sm"
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate(text);
      }}
    >
      <TextArea
        label="Visit note (private)"
        hint="Only you see this note. It is stored encrypted with the patient's records."
        rows={6}
        maxLength={20_000}
        value={text}
        onChange={(event) => setText(event.target.value)}
      />
      {save.error && <ErrorAlert error={save.error} title="The note was not saved" />}
      <div className="row" style={{ gap: 'var(--space-3)' }}>
        <Button type="submit" loading={save.isPending} disabled={!unsaved && !save.isError}>
          Save
        </Button>
        <p className="small muted" role="status" style={{ margin: 0 }}>
          {unsaved
            ? 'Unsaved changes'
            : saved.updated_at
              ? `Saved at ${formatWhen(saved.updated_at, zone, now)}`
              : ''}
        </p>
      </div>
    </form>
  );
}
