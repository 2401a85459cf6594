import {
  arrayOf,
  isBoolean,
  isInteger,
  isNumber,
  isObject,
  isString,
  oneOf,
  optional,
  pickChecked,
  shape
} from '../jsonshape';

describe('JSON shape checks', () => {
  it('check scalars strictly', () => {
    expect(isObject({})).toBe(true);
    expect(isObject([])).toBe(false);
    expect(isObject(null)).toBe(false);
    expect(isString('')).toBe(true);
    expect(isString(1)).toBe(false);
    expect(isBoolean(false)).toBe(true);
    expect(isBoolean(0)).toBe(false);
    expect(isNumber(1.5)).toBe(true);
    expect(isNumber(Infinity)).toBe(false);
    expect(isNumber('1')).toBe(false);
    expect(isInteger(2)).toBe(true);
    expect(isInteger(2.5)).toBe(false);
  });

  it('combine', () => {
    expect(oneOf('a', 'b')('b')).toBe(true);
    expect(oneOf('a', 'b')('c')).toBe(false);
    expect(optional(isString)(undefined)).toBe(true);
    expect(optional(isString)(null)).toBe(true);
    expect(optional(isString)(3)).toBe(false);
    expect(arrayOf(isString)(['a', 'b'])).toBe(true);
    expect(arrayOf(isString)(['a', 1])).toBe(false);
    expect(arrayOf(isString)('ab')).toBe(false);
    const point = shape({ x: isNumber, y: isNumber });
    expect(point({ x: 1, y: 2, z: 3 })).toBe(true);
    expect(point({ x: 1 })).toBe(false);
    expect(point([1, 2])).toBe(false);
  });

  it('pick the known fields of a known type', () => {
    const shapes = { point: { x: isNumber, label: optional(isString) } };
    expect(pickChecked(shapes, { type: 'point', x: 1, z: 2 })).toEqual({
      type: 'point',
      x: 1
    });
    expect(
      pickChecked(shapes, { type: 'point', x: 1, label: null })
    ).toStrictEqual({ type: 'point', x: 1, label: null });
    expect(pickChecked(shapes, { type: 'point', x: 'one' })).toBeNull();
    expect(pickChecked(shapes, { type: 'line', x: 1 })).toBeNull();
    expect(pickChecked(shapes, { type: 'hasOwnProperty' })).toBeNull();
    expect(pickChecked(shapes, { x: 1 })).toBeNull();
    expect(pickChecked(shapes, 'point')).toBeNull();
  });
});
