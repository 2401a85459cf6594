/**
 * What the chat panel's status lines say: the panel's (connection, error, the answer
 * streaming now) and a live turn's own.
 */
import { IChatTurn, turnActivity } from './chatturn';
import { ITranslate } from './turn';

/** What the panel's status line depends on. */
export interface IPanelStatus {
  /** A problem not tied to one answer (`ChatPanelModel.error`), or `''`. */
  error: string;
  /** The answer streaming now. */
  pending?: IChatTurn;
  /** The panel follows a notebook. */
  bound: boolean;
  connecting: boolean;
  connected: boolean;
}

/** What the status line says about a streaming turn's `turnActivity`. */
export function activityText(turn: IChatTurn, trans: ITranslate): string {
  const tool = turn.tools[turn.tools.length - 1]?.name ?? '';
  switch (turnActivity(turn)) {
    case 'confirming':
      return trans.__('Waiting for you: run %1?', tool);
    case 'tool':
      return trans.__('Running %1…', tool);
    case 'sending':
      return trans.__('Sending…');
    case 'waiting':
      return trans.__('Waiting for the first token…');
    case 'thinking':
      return trans.__('Thinking…');
    case 'answering':
      return trans.__('Answering…');
    default:
      return '';
  }
}

/** A streaming turn's line: the kernel's notice (a retry, a timeout) while it holds. */
export function streamingText(turn: IChatTurn, trans: ITranslate): string {
  return (
    (turn.state === 'streaming' && turn.notice) || activityText(turn, trans)
  );
}

/** The line under a live turn: why it failed, or what it is doing. */
export function turnStatusText(turn: IChatTurn, trans: ITranslate): string {
  return turn.state === 'error'
    ? trans.__('Failed: %1', turn.error ?? '')
    : streamingText(turn, trans);
}

/** The panel's status line: an error first, then the answer, then the connection. */
export function panelStatusText(
  status: IPanelStatus,
  trans: ITranslate
): string {
  if (status.error) {
    return status.error;
  }
  if (status.pending) {
    return streamingText(status.pending, trans);
  }
  if (status.connecting) {
    return trans.__('Connecting to the kernel…');
  }
  if (!status.bound) {
    return trans.__('Open a notebook to chat with Kimi about it.');
  }
  return status.connected ? '' : trans.__('Not connected to a kernel.');
}
