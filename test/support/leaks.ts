/**
 * A stack frame, as a leaked trace would show one: `at fn (/path/file.ts:12:34)`, `at file:///...:12:34`,
 * `at node:internal/...:1:2`. A path is required, so that prose such as "must be at least 1 ... e.g.
 * 2025-04-09T00:00:00Z" in a problem's messages is not taken for one.
 */
export const STACK_FRAME = /\bat (?:[^\s"()]+ )*\(?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s"()]*:\d+:\d+/;
