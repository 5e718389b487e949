export function get(obj, path, fallback) {
  const keys = Array.isArray(path)
    ? path
    : String(path).replace(/\[(\w+)\]/g, '.$1').split('.').filter(Boolean);
  let cur = obj;
  for (const key of keys) {
    if (cur == null) return fallback;
    cur = cur[key];
  }
  return cur === undefined ? fallback : cur;
}

export function pick(obj, keys) {
  const out = {};
  for (const key of keys) if (key in obj) out[key] = obj[key];
  return out;
}

export function omit(obj, keys) {
  const skip = new Set(keys);
  const out = {};
  for (const key of Object.keys(obj)) if (!skip.has(key)) out[key] = obj[key];
  return out;
}
