/// <reference types="node" />
/**
 * The hostile-output corpus shared with the Python tests (`tests/fixtures/hostile/`,
 * described in its README; `tests/hostile_corpus.py` is the Python loader).
 */
import * as fs from 'fs';
import * as path from 'path';

const CORPUS = path.resolve(__dirname, '../../../tests/fixtures/hostile');

/** One vector: its id, class, text, and what must survive rendering. */
export interface IVector {
  id: string;
  kind: string;
  text: string;
  note: string;
  expect: string[];
}

interface IRawVector {
  id: string;
  class: string;
  text?: string;
  repeat?: [string, number][];
  prefix?: string;
  suffix?: string;
  note: string;
  expect?: string[];
}

/** The vectors of `kinds` (every file when none are named). */
export function loadCorpus(...kinds: string[]): IVector[] {
  const names = kinds.length
    ? kinds.map(kind => `${kind}.json`)
    : fs.readdirSync(CORPUS).filter(name => name.endsWith('.json'));
  return names.sort().flatMap(name => {
    const raw = JSON.parse(
      fs.readFileSync(path.join(CORPUS, name), 'utf-8')
    ) as IRawVector[];
    return raw.map(item => ({
      id: item.id,
      kind: item.class,
      text:
        item.text ??
        (item.prefix ?? '') +
          (item.repeat ?? []).map(([unit, n]) => unit.repeat(n)).join('') +
          (item.suffix ?? ''),
      note: item.note,
      expect: item.expect ?? []
    }));
  });
}
