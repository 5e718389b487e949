'use strict';

const https = require('https');
const { URL } = require('url');
const { version } = require('../package.json');

const DEFAULT_BASE_URL = 'https://api.skycast.example.com/v2/';

class SkycastError extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = 'SkycastError';
    this.status = status;
    this.body = body;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Skycast {
  constructor({ apiKey = process.env.SKYCAST_API_KEY, baseURL = DEFAULT_BASE_URL, timeout = 10000, maxRetries = 2 } = {}) {
    if (!apiKey) {
      throw new SkycastError('No API key: pass { apiKey } or set SKYCAST_API_KEY (https://skycast.example.com/account/keys)');
    }
    this.apiKey = apiKey;
    this.baseURL = baseURL.endsWith('/') ? baseURL : `${baseURL}/`;
    this.timeout = timeout;
    this.maxRetries = maxRetries;
  }

  request(method, path, { query, body } = {}) {
    const url = new URL(path.replace(/^\//, ''), this.baseURL);
    for (const [k, v] of Object.entries(query || {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      accept: 'application/json',
      authorization: `Bearer ${this.apiKey}`,
      'user-agent': `skycast-client/${version} node/${process.versions.node}`,
    };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const once = () => new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, timeout: this.timeout }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try { json = text ? JSON.parse(text) : null; } catch (_) { json = text; }
          if (res.statusCode >= 200 && res.statusCode < 300) resolve(json);
          else reject(new SkycastError(`${method} ${url.pathname}: HTTP ${res.statusCode}`, res.statusCode, json));
        });
      });
      req.on('timeout', () => req.destroy(new SkycastError(`${method} ${url.pathname}: timed out`)));
      req.on('error', (err) => reject(err instanceof SkycastError ? err : new SkycastError(err.message)));
      req.end(payload);
    });
    const attempt = async (n) => {
      try {
        return await once();
      } catch (err) {
        const retriable = err.status === undefined || err.status === 429 || err.status >= 500;
        if (!retriable || n >= this.maxRetries) throw err;
        await sleep(250 * 2 ** n);
        return attempt(n + 1);
      }
    };
    return attempt(0);
  }

  forecast(lat, lon, { days = 3, units = 'metric' } = {}) {
    return this.request('GET', 'forecast', { query: { lat, lon, days, units } });
  }

  current(lat, lon) {
    return this.request('GET', 'current', { query: { lat, lon } });
  }

  createAlert({ lat, lon, condition, webhookUrl }) {
    return this.request('POST', 'alerts', { body: { lat, lon, condition, webhook_url: webhookUrl } });
  }
}

module.exports = { Skycast, SkycastError, DEFAULT_BASE_URL };
