import { Link, useNavigate } from 'react-router-dom';
import { ErrorState, LoadingState } from '../../components';
import { useCurrentUser } from '../auth/session';
import { useConversation } from '../chat/api';
import { ConversationThread } from '../chat/ConversationPage';
import { conversationTitle, myRole } from '../chat/receipts';
import '../chat/chat.css';

/** The consult's conversation beside the video: the chat's own timeline and message box. */
export function ConsultChat({ conversationId, zone }: { conversationId: string; zone: string }) {
  const me = useCurrentUser();
  const navigate = useNavigate();
  const conversation = useConversation(conversationId);
  const fullPath = `/messages/${encodeURIComponent(conversationId)}`;

  return (
    <aside className="consult-chat" aria-label="Chat">
      <div className="consult-chat__header">
        <h2>Chat</h2>
        <Link className="small" to={fullPath}>
          Open the full conversation
        </Link>
      </div>
      {conversation.data ? (
        <ConversationThread
          conversation={conversation.data}
          me={me}
          role={myRole(conversation.data, me)}
          zone={zone}
          title={conversationTitle(conversation.data, myRole(conversation.data, me))}
          // Offering times needs the full conversation page (its dialogs live there).
          onOfferTimes={() => navigate(fullPath)}
        />
      ) : conversation.isPending ? (
        <LoadingState label="Loading the chat…" />
      ) : (
        <ErrorState
          error={conversation.error}
          title="We could not load the chat"
          onRetry={() => void conversation.refetch()}
        />
      )}
    </aside>
  );
}
