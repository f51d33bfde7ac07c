import { useId, useState, type KeyboardEvent } from 'react';
import type { ChatAttachment, ChatMessage } from '../../api/types';
import { Button, ConfirmDialog, ErrorAlert } from '../../components';
import { MAX_TEXT, textProblem, type OutboxEntry } from '../../realtime/chatSocket';
import { attachmentUrl, useDeleteMessage, useEditMessage } from './api';
import { useChatSocket } from './context';
import { fileSize, messageTime } from './format';
import { linkify } from './linkify';
import type { DeliveryMark } from './receipts';

export const EDIT_WINDOW_MS = 15 * 60 * 1000;

/** Plain text with its links made clickable: React text and <a> nodes, never HTML. */
export function MessageText({ text }: { text: string }) {
  return (
    <p className="chat-msg__text">
      {linkify(text).map((segment, index) =>
        segment.kind === 'link' ? (
          <a key={index} href={segment.href} target="_blank" rel="noopener noreferrer">
            {segment.text}
            <span className="sr-only"> (opens in a new tab)</span>
          </a>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </p>
  );
}

function Attachments({ attachments }: { attachments: readonly ChatAttachment[] }) {
  if (attachments.length === 0) return null;
  return (
    <ul className="chat-attachments">
      {attachments.map((attachment) => {
        const url = attachmentUrl(attachment.id);
        const size = fileSize(attachment.size);
        return (
          <li key={attachment.id}>
            {attachment.content_type.startsWith('image/') ? (
              <a href={url} target="_blank" rel="noopener noreferrer">
                <img
                  className="chat-attachment__image"
                  src={url}
                  alt={attachment.name}
                  loading="lazy"
                />
                <span className="sr-only"> (open the full image in a new tab)</span>
              </a>
            ) : null}
            <span className="chat-attachment__file small">
              <a href={url} download={attachment.name}>
                Download {attachment.name}
              </a>
              <span className="muted">
                {attachment.content_type === 'application/pdf' ? 'PDF' : 'Image'}, {size}
              </span>
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function canEdit(message: ChatMessage, now: number): boolean {
  return !message.deleted && now - Date.parse(message.created_at) < EDIT_WINDOW_MS;
}

/** A text message (with its files), mine or someone else's. */
export function TextMessage({
  message,
  mine,
  sender,
  actingFor,
  zone,
  mark,
  now,
}: {
  message: ChatMessage;
  mine: boolean;
  sender: string;
  actingFor: string | null;
  zone: string;
  mark: DeliveryMark | null;
  /** The clock of the list (ticks), for the edit window; the server has the final word. */
  now: number;
}) {
  const socket = useChatSocket();
  const edit = useEditMessage(socket);
  const remove = useDeleteMessage(socket);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const editId = useId();
  const time = messageTime(message.created_at, zone);
  const editable = mine && canEdit(message, now);

  const startEdit = () => {
    setDraft(message.body ?? '');
    setProblem(null);
    edit.reset();
    setEditing(true);
  };

  const save = () => {
    const wrong = textProblem(draft);
    if (wrong) {
      setProblem(wrong);
      return;
    }
    edit.mutate({ message, body: draft.trim() }, { onSuccess: () => setEditing(false) });
  };

  const onEditKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      setEditing(false);
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    }
  };

  return (
    <li className={mine ? 'chat-msg chat-msg--mine' : 'chat-msg'}>
      {!mine && (
        <p className="chat-msg__sender">
          {sender}
          {actingFor && <> for {actingFor}</>}
        </p>
      )}
      {mine && (
        <span className="sr-only">
          You{actingFor ? ` for ${actingFor}` : ''} at {time}:
        </span>
      )}
      {editing ? (
        <div className="chat-edit stack-sm">
          <label htmlFor={editId} className="field__label">
            Edit message
          </label>
          <textarea
            id={editId}
            className="textarea"
            rows={3}
            value={draft}
            onChange={(event) => {
              setDraft(event.target.value);
              setProblem(null);
            }}
            onKeyDown={onEditKey}
            aria-invalid={draft.trim().length > MAX_TEXT || undefined}
            autoFocus
          />
          {problem && <p className="field__error">{problem}</p>}
          {edit.error && <ErrorAlert error={edit.error} title="Not saved" />}
          <div className="chat-msg__actions">
            <Button size="small" onClick={save} loading={edit.isPending}>
              Save
            </Button>
            <Button variant="secondary" size="small" onClick={() => setEditing(false)}>
              Cancel
            </Button>
          </div>
        </div>
      ) : (
        <div className="chat-msg__bubble">
          {message.deleted ? (
            <p className="chat-msg__deleted">This message was deleted.</p>
          ) : (
            <>
              {message.body && <MessageText text={message.body} />}
              <Attachments attachments={message.attachments ?? []} />
            </>
          )}
        </div>
      )}
      <p className="chat-msg__meta">
        <time dateTime={message.created_at}>{time}</time>
        {message.edited_at && !message.deleted && <span>Edited</span>}
        {mark && (
          <span
            className={
              mark.label === 'Read' ? 'chat-msg__mark chat-msg__mark--read' : 'chat-msg__mark'
            }
            title={mark.detail}
          >
            <span aria-hidden="true">{mark.label === 'Sent' ? '✓' : '✓✓'} </span>
            {mark.label}
            <span className="sr-only"> ({mark.detail})</span>
          </span>
        )}
      </p>
      {mine && !message.deleted && !editing && (
        <div className="chat-msg__actions">
          {editable && (
            <Button variant="ghost" size="small" onClick={startEdit}>
              Edit<span className="sr-only"> your message from {time}</span>
            </Button>
          )}
          <Button variant="ghost" size="small" onClick={() => setConfirmDelete(true)}>
            Delete<span className="sr-only"> your message from {time}</span>
          </Button>
        </div>
      )}
      {remove.error && <ErrorAlert error={remove.error} title="Not deleted" />}
      <ConfirmDialog
        open={confirmDelete}
        title="Delete this message?"
        confirmLabel="Delete message"
        destructive
        busy={remove.isPending}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={() =>
          remove.mutate(message, {
            onSettled: () => setConfirmDelete(false),
          })
        }
      >
        <p>It will be removed for everyone in this conversation, with any attached file.</p>
      </ConfirmDialog>
    </li>
  );
}

const ACTION_LABELS: Record<string, string> = {
  'booking.request_appointment': 'your appointment request',
  'booking.offer_slots': 'the times you offered',
  'booking.choose_slot': 'the time you chose',
  'booking.book_appointment': 'your booking',
  'booking.reschedule_appointment': 'the new time',
  'booking.cancel_appointment': 'the cancellation',
  'booking.request_payment': 'the bill',
  'prescriptions.request_refill': 'your refill request',
  'prescriptions.send_to_pharmacy': 'the prescription to the pharmacy',
};

/** Something of mine still in the outbox: waiting, being sent, or refused. */
export function PendingItem({ entry, online }: { entry: OutboxEntry; online: boolean }) {
  const socket = useChatSocket();
  const failed = entry.state === 'failed';
  const what = entry.kind === 'action' ? (ACTION_LABELS[entry.action] ?? 'your request') : null;
  const status = failed
    ? `Not sent: ${entry.error?.message ?? 'refused'}`
    : online
      ? 'Sending…'
      : 'Waiting for connection';
  return (
    <li
      className={[
        'chat-msg chat-msg--mine chat-msg--pending',
        failed ? 'chat-msg--failed' : '',
      ].join(' ')}
    >
      <div className="chat-msg__bubble">
        {entry.kind === 'message' ? (
          <MessageText text={entry.body} />
        ) : (
          <p className="chat-msg__text">
            {failed ? `Could not send ${what}.` : `Sending ${what}…`}
          </p>
        )}
      </div>
      <p className="chat-msg__meta">
        <span
          className={failed ? 'chat-msg__error' : undefined}
          role={failed ? 'alert' : undefined}
        >
          {status}
        </span>
      </p>
      {failed && (
        <div className="chat-msg__actions">
          {entry.error?.code !== 'invalid' && entry.error?.code !== 'too_long' && (
            <Button variant="secondary" size="small" onClick={() => socket.retry(entry.client_id)}>
              Try again
            </Button>
          )}
          <Button variant="ghost" size="small" onClick={() => socket.discard(entry.client_id)}>
            Dismiss
          </Button>
        </div>
      )}
    </li>
  );
}
