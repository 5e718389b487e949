export function clamp(n, lower, upper) {
  return Math.min(upper, Math.max(lower, n));
}
