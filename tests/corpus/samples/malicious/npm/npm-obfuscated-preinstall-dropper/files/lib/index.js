'use strict';

class Opt {
  constructor(cmd) {
    this._cmd = cmd;
    this._flag = false;
  }
  name(n) { this._name = n; return this; }
  short(s) { this._short = s; return this; }
  long(l) { this._long = l; return this; }
  flag() { this._flag = true; return this; }
  end() { return this._cmd; }
  matches(arg) {
    return arg === '-' + this._short || arg === '--' + (this._long || this._name);
  }
}

class Command {
  constructor() {
    this._opts = [];
    this._act = null;
  }
  name(n) { this._name = n; return this; }
  opt() { const o = new Opt(this); this._opts.push(o); return o; }
  act(fn) { this._act = fn; return this; }
  parse(argv) {
    const out = { _: [] };
    const args = (argv || []).slice();
    while (args.length) {
      const a = args.shift();
      const o = this._opts.find((x) => x.matches(a));
      if (!o) out._.push(a);
      else out[o._name] = o._flag ? true : args.shift();
    }
    return out;
  }
  run(argv) {
    const opts = this.parse(argv);
    return this._act ? this._act(opts) : opts;
  }
}

function Cmd() {
  return new Command();
}

module.exports = { Cmd, Command, Opt };
