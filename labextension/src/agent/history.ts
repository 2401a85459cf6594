/**
 * The notebook's agent record in the panel, under the Agent switch: the agent turns of the
 * bound notebook that the conversation shown does not hold. A turn of this page whose
 * view left the conversation (a kernel restart wipes the panel's turns) keeps its live
 * steps and "Undo this turn" here; a turn from the notebook's metadata (an earlier
 * session) shows read-only, without Undo. One node per notebook, rebuilt when what it
 * shows changes; the records read from each notebook are kept until its record changes.
 */
import type { ISharedNotebook } from '@jupyter/ydoc';

import { ITranslate, untranslated } from '../turn';
import {
  ITurnRecord,
  readRecords,
  recordHead,
  recordView,
  statusText,
  writeRecord
} from './records';
import { endingOf, IAgentTarget, IAgentTurn, recordOf } from './turnstate';

/** A turn of this page, as the record shows it. */
interface ILiveTurn {
  id: string;
  prompt: string;
  /** The turn's steps (and Undo), the node the conversation shows when it holds the turn. */
  node: HTMLElement;
  /** How it ended (`restarted`, `stopped`, …). */
  status: string;
}

/** What a record node shows: the saved records read and the entries built from them. */
interface IShown {
  saved: readonly ITurnRecord[];
  /** The ids and statuses of the entries, in order. */
  entries: string;
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
    this.forget(turn.target.notebook);
    this.refreshSoon(turn.target);
  }

  /** The record of `notebook` changed (or may have): read it again at the next refresh. */
  forget(notebook: ISharedNotebook): void {
    this._records.delete(notebook);
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
    this._refresh(target.key, live, this._saved(target.notebook));
  }

  /** The records kept in `notebook`, read once until `forget`. */
  private _saved(notebook: ISharedNotebook): readonly ITurnRecord[] {
    let records = this._records.get(notebook);
    if (!records) {
      records = readRecords(notebook);
      this._records.set(notebook, records);
    }
    return records;
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
   * out of the document, or here already) and the `saved` records of no live turn; the
   * node is left as it is when it shows these already.
   */
  private _refresh(
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
    const shown: IShown = {
      saved,
      entries: JSON.stringify([
        ...earlier.map(record => [record.id, record.status]),
        ...kept.map(turn => [turn.id, turn.status])
      ])
    };
    const before = this._shown.get(key);
    if (
      before &&
      before.saved === shown.saved &&
      before.entries === shown.entries &&
      kept.every(turn => node.contains(turn.node))
    ) {
      return;
    }
    this._shown.set(key, shown);
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
    const entry = recordHead(
      'jp-KimiAgent-record jp-mod-live',
      turn,
      this._trans.__('This page: %1', statusText(turn.status, this._trans))
    );
    entry.appendChild(turn.node);
    return entry;
  }

  private readonly _trans: ITranslate;
  private readonly _pending = new Set<IAgentTarget>();
  private readonly _nodes = new WeakMap<object, HTMLElement>();
  private readonly _shown = new WeakMap<object, IShown>();
  private readonly _records = new WeakMap<ISharedNotebook, ITurnRecord[]>();
}
