'use strict';

const fs = require('fs');

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(value) {
  return value == null ? '' : String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const TAG = /<%([=-]?)([\s\S]+?)%>/g;

// Turns a template into the source of a function body. Text is embedded as
// JSON string literals; tag contents are the template author's JavaScript.
function toSource(template) {
  let source = 'let __out = "";\n';
  let last = 0;
  template.replace(TAG, (match, kind, code, offset) => {
    source += `__out += ${JSON.stringify(template.slice(last, offset))};\n`;
    if (kind === '=') source += `__out += __escape(${code.trim()});\n`;
    else if (kind === '-') source += `__out += ((__v) => __v == null ? "" : __v)(${code.trim()});\n`;
    else source += `${code}\n`;
    last = offset + match.length;
    return match;
  });
  source += `__out += ${JSON.stringify(template.slice(last))};\nreturn __out;`;
  return source;
}

const cache = new Map();

function compile(template, { variable = 'data', cache: useCache = true } = {}) {
  if (!/^[A-Za-z_$][\w$]*$/.test(variable)) throw new Error(`microtpl: bad variable name ${variable}`);
  const key = `${variable}\0${template}`;
  if (useCache && cache.has(key)) return cache.get(key);
  const body = `with (${variable} || {}) {\n${toSource(template)}\n}`;
  let fn;
  try {
    // eslint-disable-next-line no-new-func
    fn = new Function(variable, '__escape', body);
  } catch (err) {
    err.message = `microtpl: cannot compile template: ${err.message}`;
    throw err;
  }
  const render = (data) => fn(data, escapeHtml);
  render.source = body;
  if (useCache) cache.set(key, render);
  return render;
}

function render(template, data, options) {
  return compile(template, options)(data);
}

function renderFile(file, data, options) {
  return render(fs.readFileSync(file, 'utf8'), data, options);
}

module.exports = { compile, render, renderFile, escapeHtml, toSource };
