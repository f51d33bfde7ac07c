import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { Button, ErrorAlert } from '../../components';
import { loadDraft, saveDraft } from '../../realtime/chatDrafts';
import { MAX_TEXT, textProblem } from '../../realtime/chatSocket';
import { attachmentProblem, randomUuid, useUploadAttachment } from './api';
import { useChatSocket, useConnectionStatus } from './context';
import { fileSize } from './format';

const ACCEPT = 'image/jpeg,image/png,image/webp,image/gif,application/pdf';

/**
 * The message box: Enter sends, Shift+Enter starts a new line; the draft is kept per
 * conversation. Text goes through the socket's outbox (so it is sent even after a drop); a file
 * is uploaded over REST with the text as its caption.
 */
export function Composer({
  conversationId,
  userId,
  recipient,
  onSent,
}: {
  conversationId: string;
  userId: string;
  recipient: string;
  onSent: () => void;
}) {
  const socket = useChatSocket();
  const status = useConnectionStatus();
  const [text, setText] = useState(() => loadDraft(userId, conversationId));
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const uploadId = useRef<string | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const upload = useUploadAttachment(conversationId, socket);
  const ids = useId();
  const hintId = `${ids}-hint`;
  const problemId = `${ids}-problem`;
  const count = text.trim().length;
  const over = count > MAX_TEXT;
  const offline = status === 'offline';

  // An object URL for the chosen image's thumbnail, released when it changes.
  useEffect(() => {
    if (!preview) return;
    return () => URL.revokeObjectURL(preview);
  }, [preview]);

  const update = (value: string) => {
    setText(value);
    setProblem(null);
    saveDraft(userId, conversationId, value);
    if (value.trim()) socket.typing(conversationId);
  };

  const clearFile = () => {
    setFile(null);
    setPreview(null);
    uploadId.current = null;
    upload.reset();
    if (fileRef.current) fileRef.current.value = '';
  };

  const chooseFile = (chosen: File | null) => {
    if (!chosen) return;
    const wrong = attachmentProblem(chosen);
    if (wrong) {
      setProblem(wrong);
      if (fileRef.current) fileRef.current.value = '';
      return;
    }
    setProblem(null);
    upload.reset();
    uploadId.current = randomUuid(); // one id per file: a retried upload is stored once
    setFile(chosen);
    setPreview(chosen.type.startsWith('image/') ? URL.createObjectURL(chosen) : null);
  };

  const send = () => {
    if (file) {
      if (over) {
        setProblem(textProblem(text));
        return;
      }
      upload.mutate(
        { file, caption: text, clientId: uploadId.current ?? randomUuid() },
        {
          onSuccess: () => {
            clearFile();
            update('');
            onSent();
          },
        },
      );
      return;
    }
    const wrong = textProblem(text);
    if (wrong) {
      setProblem(wrong);
      return;
    }
    socket.sendText(conversationId, text);
    update('');
    onSent();
    inputRef.current?.focus();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    send();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (!upload.isPending) send();
    }
  };

  return (
    <form className="chat-composer" onSubmit={onSubmit} aria-label={`Write to ${recipient}`}>
      {file && (
        <div className="chat-chosen-file">
          {preview && <img src={preview} alt="" />}
          <span>
            Attaching <strong>{file.name}</strong> ({fileSize(file.size)})
          </span>
          <Button variant="ghost" size="small" onClick={clearFile} disabled={upload.isPending}>
            Remove attachment
          </Button>
        </div>
      )}
      {upload.error && (
        <ErrorAlert error={upload.error} title="The file was not sent" inlineFields={[]} />
      )}
      <div className="chat-composer__row">
        <div className="chat-attach">
          <input
            ref={fileRef}
            id={`${ids}-file`}
            className="sr-only chat-attach-input"
            type="file"
            accept={ACCEPT}
            disabled={offline || upload.isPending}
            onChange={(event) => chooseFile(event.target.files?.[0] ?? null)}
            aria-describedby={`${ids}-file-hint`}
          />
          <label
            htmlFor={`${ids}-file`}
            className="btn btn--secondary chat-attach-label"
            aria-disabled={offline || undefined}
          >
            Attach a file
          </label>
          <span id={`${ids}-file-hint`} className="sr-only">
            An image or a PDF, up to 10 MB.
            {offline ? ' Files can be sent when you are back online.' : ''}
          </span>
        </div>
        <div>
          <label htmlFor={`${ids}-text`} className="sr-only">
            Message
          </label>
          <textarea
            ref={inputRef}
            id={`${ids}-text`}
            className="textarea"
            rows={2}
            value={text}
            placeholder={file ? 'Add a caption (optional)' : `Write to ${recipient}`}
            onChange={(event) => update(event.target.value)}
            onKeyDown={onKeyDown}
            aria-describedby={[hintId, problem ? problemId : ''].filter(Boolean).join(' ')}
            aria-invalid={over || undefined}
          />
        </div>
        <Button type="submit" loading={upload.isPending}>
          Send
        </Button>
      </div>
      <p className="chat-composer__hint" id={hintId}>
        <span>Enter to send, Shift+Enter for a new line.</span>
        <span className={over ? 'chat-composer__count--over' : undefined}>
          {count.toLocaleString('en-US')} / {MAX_TEXT.toLocaleString('en-US')} characters
        </span>
      </p>
      {problem && (
        <p className="field__error" id={problemId} role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
