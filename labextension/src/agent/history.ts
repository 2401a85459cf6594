/**
 * The notebook's agent record in the panel, under the Agent switch: the agent turns of the
 * bound notebook that the conversation shown does not hold. A turn of this page whose
 * view left the conversation (a kernel restart wipes the panel's turns) keeps its live
 * steps and "Undo this turn" here; a turn from the notebook's metadata (an earlier
 * session) shows read-only, without Undo. One node per notebook, rebuilt on `refresh`.
 */
import { ITranslate, untranslated } from '../turn';
import {
  ITurnRecord,
  readRecords,
  recordView,
  statusText,
  writeRecord
} from './records';
import { endingOf, IAgentTarget, IAgentTurn, recordOf } from './turnstate';

/** A turn of this page, as the record shows it. */
export interface ILiveTurn {
  id: string;
  prompt: string;
  /** The turn's steps (and Undo), the node the conversation shows when it holds the turn. */
  node: HTMLElement;
  /** How it ended (`restarted`, `stopped`, …). */
  status: string;
}

export class AgentHistory {
  /** `turns`: every agent turn of this page. */
  constructor(
    private readonly _turns: () => Iterable<IAgentTurn>,
    trans: ITranslate = untranslated
  ) {
    this._trans = trans;
  }

  /** Keep the record of `turn` (ended) in its notebook's metadata. */
  keep(turn: IAgentTurn): void {
    try {
      writeRecord(turn.target.notebook, recordOf(turn));
    } catch (reason) {
      // A closed notebook's model: the turn's view stays, its record cannot.
      console.warn(
        'kimi-jupyter: could not keep the agent turn record',
        reason
      );
    }
    this.refreshSoon(turn.target);
  }

  /** Rebuild the record of `target` once the panel has rendered (a microtask later). */
  refreshSoon(target: IAgentTarget | null): void {
    if (!target) {
      return;
    }
    const first = this._pending.size === 0;
    this._pending.add(target);
    if (first) {
      queueMicrotask(() => {
        const pending = [...this._pending];
        this._pending.clear();
        pending.forEach(each => this._refreshTarget(each));
      });
    }
  }

  private _refreshTarget(target: IAgentTarget): void {
    const live = [...this._turns()]
      .filter(turn => turn.ended && turn.target.key === target.key)
      .map(turn => ({
        id: turn.id,
        prompt: turn.prompt,
        node: turn.node,
        status: endingOf(turn)
      }));
    this.refresh(target.key, live, readRecords(target.notebook));
  }

  /** The record node of notebook `key`. */
  nodeOf(key: object): HTMLElement {
    let node = this._nodes.get(key);
    if (!node) {
      node = document.createElement('div');
      node.className = 'jp-KimiAgent-history';
      node.hidden = true;
      this._nodes.set(key, node);
    }
    return node;
  }

  /**
   * Show, for notebook `key`, the turns of `live` not in the conversation (their node is
   * out of the document, or here already) and the `saved` records of no live turn.
   */
  refresh(
    key: object,
    live: readonly ILiveTurn[],
    saved: readonly ITurnRecord[]
  ): void {
    const node = this.nodeOf(key);
    const ids = new Set(live.map(turn => turn.id));
    const kept = live.filter(
      turn => !turn.node.isConnected || node.contains(turn.node)
    );
    const earlier = saved.filter(record => !ids.has(record.id));
    const entries = [
      ...earlier.map(record => recordView(record, this._trans)),
      ...kept.map(turn => this._liveEntry(turn))
    ];
    if (entries.length === 0) {
      node.replaceChildren();
      node.hidden = true;
      return;
    }
    const title = document.createElement('div');
    title.className = 'jp-KimiAgent-historyTitle';
    title.textContent = this._trans.__('Agent turns of this notebook');
    node.replaceChildren(title, ...entries);
    node.hidden = false;
  }

  private _liveEntry(turn: ILiveTurn): HTMLElement {
    const entry = document.createElement('div');
    entry.className = 'jp-KimiAgent-record jp-mod-live';
    entry.dataset.turn = turn.id;
    entry.dataset.status = turn.status;
    const notice = document.createElement('div');
    notice.className = 'jp-KimiAgent-recordNotice';
    notice.textContent = this._trans.__(
      'This page: %1',
      statusText(turn.status, this._trans)
    );
    const prompt = document.createElement('div');
    prompt.className = 'jp-KimiAgent-recordPrompt';
    prompt.textContent = turn.prompt;
    entry.append(notice, prompt, turn.node);
    return entry;
  }

  private readonly _trans: ITranslate;
  private readonly _pending = new Set<IAgentTarget>();
  private readonly _nodes = new WeakMap<object, HTMLElement>();
}
