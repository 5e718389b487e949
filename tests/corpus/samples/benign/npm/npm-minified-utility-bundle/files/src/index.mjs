export { chunk, uniq, groupBy, range } from './array.mjs';
export { debounce, throttle } from './function.mjs';
export { get, pick, omit } from './object.mjs';
export { words, camelCase, kebabCase } from './string.mjs';
export { clamp } from './number.mjs';
export const VERSION = '4.1.0';
