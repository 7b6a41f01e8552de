// A folder of images packed as one uncompressed tar (POSIX ustar) for the upload: the server
// takes a tar as an image sequence, as it takes a zip. A tar needs no checksum of the data
// and stores it as it is, so the packed File is a Blob of headers around the images' own
// Files: nothing is read or copied in the browser, whatever the size of the plates.

const BLOCK = 512;
const MAX_SIZE = 8 ** 11 - 1; // the size field: 11 octal digits (8 GiB - 1)
const encoder = new TextEncoder();

/** `files` as `<folder>/<file name>` in a tar File named `<folder>.tar`. Throws an Error saying
 * which file when a name or a size does not fit a ustar header. */
export function packFolder(folder: string, files: File[]): File {
  const parts: BlobPart[] = [];
  for (const file of files) {
    parts.push(header(`${folder}/${file.name}`, file.size, file.lastModified), file);
    const pad = (BLOCK - (file.size % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(2 * BLOCK)); // the end: two blocks of zeros
  return new File(parts, `${folder}.tar`, { type: "application/x-tar" });
}

/** One ustar header block (the name split into prefix and name where it is longer than 100
 * bytes, as ustar allows). */
function header(path: string, size: number, modified: number): Uint8Array<ArrayBuffer> {
  if (size > MAX_SIZE) throw new Error(`"${path}" is larger than a tar can hold (8 GB)`);
  const [prefix, name] = splitPath(path);
  const block = new Uint8Array(BLOCK);
  const put = (at: number, text: string | Uint8Array) => block.set(typeof text === "string" ? encoder.encode(text) : text, at);
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, "0") + "\0";
  put(0, name);
  put(100, octal(0o644, 8)); // mode
  put(108, octal(0, 8)); // uid
  put(116, octal(0, 8)); // gid
  put(124, octal(size, 12));
  put(136, octal(Math.max(0, Math.floor(modified / 1000)), 12));
  put(148, "        "); // the checksum counts its own field as spaces
  put(156, "0"); // a regular file
  put(257, "ustar\u000000");
  put(345, prefix);
  const sum = block.reduce((a, b) => a + b, 0);
  put(148, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

/** `path` as ustar's (prefix, name): the name up to 100 bytes, the prefix up to 155, split
 * at a slash. */
function splitPath(path: string): [Uint8Array, Uint8Array] {
  const bytes = encoder.encode(path);
  if (bytes.length <= 100) return [new Uint8Array(0), bytes];
  for (let i = bytes.indexOf(0x2f); i !== -1; i = bytes.indexOf(0x2f, i + 1)) {
    if (i <= 155 && bytes.length - i - 1 <= 100) return [bytes.slice(0, i), bytes.slice(i + 1)];
  }
  throw new Error(`"${path}" has too long a name for a tar (rename it shorter)`);
}
