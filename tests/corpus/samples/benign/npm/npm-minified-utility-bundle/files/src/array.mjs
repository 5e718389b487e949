export function chunk(array, size) {
  size = Math.max(1, size | 0);
  const out = [];
  for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
  return out;
}

export function uniq(array) {
  return Array.from(new Set(array));
}

export function groupBy(array, key) {
  const fn = typeof key === 'function' ? key : (item) => item[key];
  const out = {};
  for (const item of array) {
    const k = fn(item);
    (out[k] || (out[k] = [])).push(item);
  }
  return out;
}

export function range(start, end, step = 1) {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  const out = [];
  if (step === 0) return out;
  for (let i = start; step > 0 ? i < end : i > end; i += step) out.push(i);
  return out;
}
