/// <reference types="node" />
/**
 * The protocol against the fixtures the Python side is tested with too
 * (`tests/fixtures/protocol/<kind>.json`): every valid message parses to itself, every
 * invalid one is refused, and both sides know the same kinds.
 */
import * as fs from 'fs';
import * as path from 'path';

import {
  CHAT_REQUEST_KINDS,
  helloRequest,
  KERNEL_MESSAGE_KINDS,
  parseChatRequest,
  parseKernelMessage,
  PROTOCOL_VERSION,
  sessionsVersion
} from '../chatprotocol';

interface IFixture {
  kind: string;
  direction: 'to_kernel' | 'to_frontend';
  valid: unknown[];
  invalid: unknown[];
}

const FIXTURES = path.resolve(__dirname, '../../../tests/fixtures/protocol');

function readFixtures(): IFixture[] {
  return fs
    .readdirSync(FIXTURES)
    .filter(name => name.endsWith('.json'))
    .sort()
    .map(name => {
      const fixture = JSON.parse(
        fs.readFileSync(path.join(FIXTURES, name), 'utf-8')
      ) as IFixture;
      expect(`${fixture.kind}.json`).toBe(name);
      return fixture;
    });
}

const fixtures = readFixtures();
const PARSERS = {
  to_frontend: parseKernelMessage,
  to_kernel: parseChatRequest
};

describe('the shared protocol fixtures', () => {
  it('name exactly the kinds of each side', () => {
    const kinds = (direction: string) =>
      fixtures
        .filter(f => f.direction === direction)
        .map(f => f.kind)
        .sort();
    expect(kinds('to_frontend')).toEqual([...KERNEL_MESSAGE_KINDS].sort());
    expect(kinds('to_kernel')).toEqual([...CHAT_REQUEST_KINDS].sort());
    expect(fixtures).toHaveLength(
      KERNEL_MESSAGE_KINDS.length + CHAT_REQUEST_KINDS.length
    );
  });

  describe.each(fixtures.map(f => [f.kind, f] as const))('%s', (kind, f) => {
    const parse = PARSERS[f.direction];
    const other =
      PARSERS[f.direction === 'to_kernel' ? 'to_frontend' : 'to_kernel'];

    it('parses each valid message to itself, on its side only', () => {
      expect(f.valid.length).toBeGreaterThan(0);
      for (const message of f.valid) {
        expect(parse(message)).toEqual(message);
        expect(other(message)).toBeNull();
      }
    });

    it('refuses each invalid message', () => {
      expect(f.invalid.length).toBeGreaterThan(0);
      for (const message of f.invalid) {
        expect(parse(message)).toBeNull();
      }
    });
  });
});

describe('parsing', () => {
  it('refuses what is no message', () => {
    for (const data of [null, [], 'hello', 3, {}, { type: 7 }]) {
      expect(parseKernelMessage(data)).toBeNull();
      expect(parseChatRequest(data)).toBeNull();
    }
    expect(parseKernelMessage({ type: 'toString' })).toBeNull();
    expect(parseKernelMessage({ type: 'bogus', id: 'x' })).toBeNull();
  });

  it('keeps the known fields only', () => {
    expect(
      parseKernelMessage({ type: 'start', id: 'q', session: 's', extra: 1 })
    ).toEqual({ type: 'start', id: 'q', session: 's' });
    const parsed = parseKernelMessage({ type: 'error', message: 'm' });
    expect(Object.keys(parsed ?? {})).toEqual(['type', 'message']);
  });

  it('checks numbers as numbers', () => {
    const confirm = { type: 'confirm', id: 'q', call_id: 'c' };
    expect(parseKernelMessage({ ...confirm, timeout: NaN })).toBeNull();
    expect(parseKernelMessage({ ...confirm, timeout: 0 })).not.toBeNull();
    expect(parseChatRequest({ type: 'hello', version: 1.5 })).toBeNull();
  });
});

describe('the version handshake', () => {
  it('says hello in this protocol', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(helloRequest()).toEqual({ type: 'hello', version: 1 });
    expect(parseChatRequest(helloRequest())).toEqual(helloRequest());
  });

  it("reads a sessions reply's version, 0 when it has none", () => {
    expect(sessionsVersion({ type: 'sessions', version: 3 })).toBe(3);
    expect(sessionsVersion({ type: 'sessions', sessions: [] })).toBe(0);
    expect(sessionsVersion({ type: 'sessions', version: '1' })).toBe(0);
    expect(sessionsVersion({ type: 'turns', version: 1 })).toBeNull();
    expect(sessionsVersion(null)).toBeNull();
  });
});
