import { describe, expect, it } from 'vitest';
import { negotiate, toCsv } from '../../shared/api/media.ts';

const OFFERS = ['application/json', 'text/csv'];

describe('negotiate', () => {
  it.each([
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['*/*', 'application/json'],
    ['text/csv', 'text/csv'],
    ['text/*', 'text/csv'],
    ['application/json', 'application/json'],
    ['text/csv;q=0.5, application/json', 'application/json'],
    ['application/json;q=0.2, text/csv;q=0.9', 'text/csv'],
    ['TEXT/CSV; charset=utf-8', 'text/csv'],
    // The most specific range decides: csv is refused though */* would take it.
    ['text/csv;q=0, */*', 'application/json'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'application/json'],
    // No range that parses: ignored, as RFC 9110 allows.
    ['garbage', 'application/json'],
    ['json, *', 'application/json'],
  ])('picks from %j: %s', (accept, expected) => {
    expect(negotiate(accept, OFFERS)).toBe(expected);
  });

  it.each([['image/png'], ['application/json;q=0, text/csv;q=0'], ['garbage, image/png']])(
    'accepts neither for %j',
    (accept) => {
      expect(negotiate(accept, OFFERS)).toBeNull();
    },
  );
});

describe('toCsv', () => {
  it('writes a header row and one CRLF-terminated line per record, in the columns given', () => {
    expect(
      toCsv(
        ['b', 'a'],
        [
          { a: 1, b: 'x' },
          { a: -2, b: 'y', c: 'ignored' },
        ],
      ),
    ).toBe('b,a\r\nx,1\r\ny,-2\r\n');
  });

  it('quotes fields with commas, quotes and line breaks, and leaves missing ones empty', () => {
    expect(toCsv(['a', 'b'], [{ a: 'one, two', b: 'say "hi"' }, { a: 'line\nbreak' }])).toBe(
      'a,b\r\n"one, two","say ""hi"""\r\n"line\nbreak",\r\n',
    );
  });

  it('defuses text a spreadsheet would run as a formula, and writes numbers as they are', () => {
    const rows = [
      { site: '=HYPERLINK("http://x.example","click")', delta: -5 },
      { site: '+1 hall', delta: 3 },
      { site: '-B', delta: 0 },
      { site: '@SUM(A1)' },
      { site: '\tindented' },
      { site: 'Zhangbei = north' },
    ];
    expect(toCsv(['site', 'delta'], rows).split('\r\n')).toEqual([
      'site,delta',
      `"'=HYPERLINK(""http://x.example"",""click"")",-5`,
      "'+1 hall,3",
      "'-B,0",
      "'@SUM(A1),",
      "'\tindented,",
      'Zhangbei = north,',
      '',
    ]);
  });
});
