// The lookup form's proof of work, in a Web Worker so that the page stays responsive while it runs.
// Finds n such that SHA-256("<challenge>:<n>") starts with `bits` zero bits (api/proof_of_work.py
// checks it). SHA-256 is written out here: WebCrypto's digest is asynchronous per hash (far slower
// for millions of short inputs) and missing outside secure contexts. The challenge's whole 64-byte
// blocks are hashed once; each try hashes only the last block or two.
"use strict";
var K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
]);
var IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
]);
var W = new Int32Array(64);

// One 64-byte block (the big-endian words M[at..at+15]) into the state H.
function compress(H, M, at) {
  var i, x, y;
  for (i = 0; i < 16; i++) W[i] = M[at + i];
  for (i = 16; i < 64; i++) {
    x = W[i - 15]; y = W[i - 2];
    W[i] = (W[i - 16] + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + W[i - 7] +
            (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
  }
  var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (i = 0; i < 64; i++) {
    var t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
              ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    var t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
              ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
}

function words(bytes, M, from, to) {  // bytes[4*from .. 4*to) into the words M[from .. to)
  for (var i = from; i < to; i++) {
    var j = 4 * i;
    M[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
  }
}

function search(challenge, bits) {
  var prefix = new Uint8Array(challenge.length + 1);
  for (var i = 0; i < challenge.length; i++) prefix[i] = challenge.charCodeAt(i) & 0xff;
  prefix[challenge.length] = 58;  // ":"
  var whole = prefix.length - (prefix.length % 64);
  var mid = new Int32Array(IV), H = new Int32Array(8), M = new Int32Array(32), bytes = new Uint8Array(128);
  for (var at = 0; at < whole; at += 64) {
    bytes.set(prefix.subarray(at, at + 64));
    words(bytes, M, 0, 16);
    compress(mid, M, 0);
  }
  var rest = prefix.subarray(whole), start = rest.length;
  var digits = new Uint8Array(24), count = 1, blocks = 1, first = 0, last = 0;
  digits[0] = 48;  // the decimal digits of the try, most significant first: "0", "1", …

  function layout() {  // the padded tail for `count` digits; only the digits' words change per try
    var tail = start + count, bitLength = (prefix.length + count) * 8;
    blocks = tail + 9 <= 64 ? 1 : 2;
    var end = 64 * blocks;
    bytes.fill(0);
    bytes.set(rest, 0);
    bytes.set(digits.subarray(0, count), start);
    bytes[tail] = 0x80;
    bytes[end - 1] = bitLength & 0xff; bytes[end - 2] = (bitLength >>> 8) & 0xff;
    bytes[end - 3] = (bitLength >>> 16) & 0xff; bytes[end - 4] = (bitLength >>> 24) & 0xff;
    words(bytes, M, 0, 16 * blocks);
    first = start >> 2;
    last = (tail + 3) >> 2;
  }

  layout();
  var shift = 32 - bits;
  for (var n = 1; ; n++) {
    H.set(mid);
    compress(H, M, 0);
    if (blocks === 2) compress(H, M, 16);
    if ((H[0] >>> shift) === 0) return String.fromCharCode.apply(null, digits.subarray(0, count));
    if ((n & 0xffff) === 0) self.postMessage({tries: n});
    var k = count - 1;  // the next number: add one to the digits, carrying
    while (k >= 0 && digits[k] === 57) digits[k--] = 48;
    if (k < 0) {
      digits.copyWithin(1, 0, count);
      digits[0] = 49;
      count++;
      layout();
    } else {
      digits[k]++;
      for (var j = k; j < count; j++) bytes[start + j] = digits[j];
      words(bytes, M, (start + k) >> 2, last);
    }
  }
}

self.onmessage = function (event) {
  var bits = event.data.bits | 0;
  if (bits < 1 || bits > 30) { self.postMessage({error: "bits"}); return; }
  self.postMessage({nonce: search(String(event.data.challenge), bits)});
};
