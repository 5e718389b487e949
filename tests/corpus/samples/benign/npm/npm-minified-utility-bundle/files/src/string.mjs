const WORDS = /[A-Z]{2,}(?=[A-Z][a-z]+[0-9]*|\b)|[A-Z]?[a-z]+[0-9]*|[A-Z]|[0-9]+/g;

export function words(s) {
  return String(s).match(WORDS) || [];
}

export function camelCase(s) {
  return words(s)
    .map((w, i) => {
      const lower = w.toLowerCase();
      return i ? lower[0].toUpperCase() + lower.slice(1) : lower;
    })
    .join('');
}

export function kebabCase(s) {
  return words(s).map((w) => w.toLowerCase()).join('-');
}
