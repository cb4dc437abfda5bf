import { describe, expect, it } from 'vitest';
import { repeatedKeysIn } from '../../shared/api/json-keys.ts';

describe('repeatedKeysIn', () => {
  it('finds a key written twice in one object, at any depth, with its path', () => {
    expect(repeatedKeysIn('{"type":"a","type":"b"}')).toEqual([['type']]);
    expect(repeatedKeysIn('{"events":[{"a":1},{"data":{"x":1,"y":[1,{"z":2,"z":3}],"x":2}}]}')).toEqual([
      ['events', 1, 'data', 'y', 1, 'z'],
      ['events', 1, 'data', 'x'],
    ]);
  });

  it('reads keys as JSON means them: an escaped key is the same key', () => {
    expect(repeatedKeysIn('{"type":1,"\\u0074ype":2}')).toEqual([['type']]);
    expect(repeatedKeysIn('{"a\\"b":1,"a\\\\":2,"a\\"b":3}')).toEqual([['a"b']]);
  });

  it('allows the same key in different objects, and strings that look like keys or structure', () => {
    expect(repeatedKeysIn('{"a":{"id":1},"b":{"id":1},"c":[{"id":1},{"id":2}]}')).toEqual([]);
    expect(repeatedKeysIn('{"note":"\\"a\\":1,\\"a\\":2 } ] {","n":-1.5e+3,"t":true,"f":null}')).toEqual([]);
    expect(repeatedKeysIn(' [ ] ')).toEqual([]);
    expect(repeatedKeysIn('\n{ "a" : { } , "b" : [ 1 , "x" ] }\t')).toEqual([]);
  });

  it('agrees with JSON.parse on which keys an object ends up with', () => {
    const text = '{"a":1,"b":{"a":2},"c":[{"b":1,"b":2}],"d":"}"}';
    const repeated = repeatedKeysIn(text);
    expect(repeated).toEqual([['c', 0, 'b']]);
    expect(JSON.parse(text).c[0]).toEqual({ b: 2 });
  });
});
