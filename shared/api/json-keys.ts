/** A path from a JSON text's root: object keys and array indexes. */
export type JsonPath = (string | number)[];

const WHITESPACE = ' \t\n\r';
const VALUE_END = ',]} \t\n\r';

/**
 * Every key written twice in one object of a JSON text, by its path. `JSON.parse` keeps the last of them
 * without a word, so `{"type": "shipment.held", "type": "shipment.delivered"}` would pass as a delivery, and
 * another parser (a partner's, a proxy's) could read the first. `text` must be JSON that `JSON.parse` took,
 * nested no deeper than the body's limit: the scan checks nothing else.
 *
 * @example
 * repeatedKeysIn('{"a": 1, "b": {"c": 2, "c": 3}}') // [['b', 'c']]
 */
export function repeatedKeysIn(text: string): JsonPath[] {
  const found: JsonPath[] = [];
  const path: JsonPath = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && WHITESPACE.includes(text[i] as string)) i++;
  };
  /** Reads a string at `i` (on its opening quote) and returns it decoded, escapes and all. */
  const readString = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const readValue = (): void => {
    skipSpace();
    const first = text[i];
    if (first === '{') {
      i++;
      const keys = new Set<string>();
      skipSpace();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        const key = readString();
        path.push(key);
        if (keys.has(key)) found.push([...path]);
        keys.add(key);
        skipSpace();
        i++; // the colon
        readValue();
        path.pop();
        skipSpace();
        if (text[i++] === '}') return;
      }
    }
    if (first === '[') {
      i++;
      skipSpace();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        path.push(index);
        readValue();
        path.pop();
        skipSpace();
        if (text[i++] === ']') return;
      }
    }
    if (first === '"') {
      readString();
      return;
    }
    while (i < text.length && !VALUE_END.includes(text[i] as string)) i++;
  };
  readValue();
  return found;
}
