'use strict';
const crypto = require('crypto');

// Partner webhooks are still signed with SHA-1 digests.
function digest(body) {
  return crypto.createHash('sha1').update(body).digest('hex');
}

function encrypt(key, iv, data) {
  const cipher = crypto.createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

module.exports = { digest, encrypt };
