'use strict';

const fs = require('fs');
const path = require('path');

const TEMPLATES = path.join(__dirname, '..', 'templates');

function render(text, vars) {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, key) => (key in vars ? String(vars[key]) : m));
}

function copyTemplate(template, dest, vars) {
  const src = path.join(TEMPLATES, template);
  if (!fs.existsSync(src)) throw new Error(`unknown template: ${template}`);
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name);
    const to = path.join(dest, entry.name.replace(/^_/, '.'));
    if (entry.isDirectory()) {
      fs.mkdirSync(to, { recursive: true });
      copyTemplate(path.join(template, entry.name), to, vars);
    } else {
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, render(fs.readFileSync(from, 'utf8'), vars));
    }
  }
}

function create(name, { template = 'basic', cwd = process.cwd() } = {}) {
  const dest = path.resolve(cwd, name);
  if (fs.existsSync(dest) && fs.readdirSync(dest).length) throw new Error(`${dest} is not empty`);
  fs.mkdirSync(dest, { recursive: true });
  copyTemplate(template, dest, { name, year: new Date().getFullYear() });
  return dest;
}

module.exports = { create, render };
