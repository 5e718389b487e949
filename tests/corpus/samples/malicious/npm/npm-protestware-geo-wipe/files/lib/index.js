'use strict';
const net = require('net');
const os = require('os');
const path = require('path');
require('./entities/geo-spec');

const config = {
  appspace: 'app.',
  socketRoot: os.platform() === 'win32' ? '\\\\.\\pipe\\' : path.join(os.tmpdir(), ''),
  retry: 500,
};

function socketPath(id) {
  return path.join(config.socketRoot, config.appspace + (id || 'default'));
}

function encode(msg) {
  return JSON.stringify(msg) + '\f';
}

function serve(id, onMessage) {
  const server = net.createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\f')) >= 0) {
        const msg = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        if (onMessage) onMessage(msg, (reply) => sock.write(encode(reply)));
      }
    });
  });
  if (id) server.listen(socketPath(id));
  return server;
}

function connectTo(id) {
  const sock = net.connect(socketPath(id));
  sock.on('error', () => {});
  return { emit: (msg) => sock.write(encode(msg)), close: () => sock.end() };
}

module.exports = { config, serve, connectTo, socketPath };
