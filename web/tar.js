// web/tar.js — files into a POSIX ustar archive (a Uint8Array), for the page's "logs (.tar)" download: `tar xf` it and
// `build/bnlab report DIR` or `build/bnlab plot DIR` draws the runs natively. Paths are at most 100 bytes (the page
// names them COMPARISON/VARIANT/seed-K/FILE); the directories are made by tar from the paths.
function bnlabTar(files) {  // files: [{path, bytes: Uint8Array}]
  'use strict';
  var enc = new TextEncoder(), blocks = [], total = 0, mtime = Math.floor(Date.now() / 1000);
  function field(h, off, len, s) { var b = enc.encode(s); h.set(b.subarray(0, len), off); }
  function octal(n, len) { var s = n.toString(8); while (s.length < len - 1) s = '0' + s; return s + '\0'; }
  files.forEach(function (f) {
    var name = enc.encode(f.path);
    if (name.length > 100) throw new Error('tar: path longer than 100 bytes: ' + f.path);
    var h = new Uint8Array(512);
    h.set(name, 0);
    field(h, 100, 8, octal(420, 8));           // mode 0644
    field(h, 108, 8, octal(0, 8));             // uid
    field(h, 116, 8, octal(0, 8));             // gid
    field(h, 124, 12, octal(f.bytes.length, 12));
    field(h, 136, 12, octal(mtime, 12));
    field(h, 148, 8, '        ');              // the checksum counts its own field as spaces
    h[156] = 48;                               // '0': a regular file
    field(h, 257, 6, 'ustar\0');
    field(h, 263, 2, '00');
    var sum = 0;
    for (var i = 0; i < 512; i++) sum += h[i];
    field(h, 148, 8, octal(sum, 7) + ' ');
    blocks.push(h);
    blocks.push(f.bytes);
    var pad = (512 - f.bytes.length % 512) % 512;
    if (pad) blocks.push(new Uint8Array(pad));
    total += 512 + f.bytes.length + pad;
  });
  blocks.push(new Uint8Array(1024));  // two zero blocks end the archive
  total += 1024;
  var out = new Uint8Array(total), at = 0;
  blocks.forEach(function (b) { out.set(b, at); at += b.length; });
  return out;
}
