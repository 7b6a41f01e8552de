// The tar a folder is packed into: ustar headers the server's tarfile reads (the e2e sequence
// spec uploads one), each image's bytes as they are, padded to blocks, two zero blocks at the end.
import { describe, expect, it } from "vitest";
import { packFolder } from "./tar";

const text = (bytes: Uint8Array, at: number, length: number) => new TextDecoder().decode(bytes.slice(at, at + length)).replace(/\0.*$/s, "");

/** The headers and data of a tar, checking each header's checksum as tar readers do. */
function entries(bytes: Uint8Array): { path: string; data: Uint8Array }[] {
  const found = [];
  let at = 0;
  while (bytes.slice(at, at + 512).some((b) => b !== 0)) {
    const block = bytes.slice(at, at + 512);
    const stated = parseInt(text(block, 148, 8), 8);
    block.fill(0x20, 148, 156);
    expect(block.reduce((a, b) => a + b, 0)).toBe(stated);
    expect([text(block, 156, 1), text(block, 257, 6), text(block, 263, 2), text(block, 100, 8)]).toEqual(["0", "ustar", "00", "0000644"]);
    const size = parseInt(text(block, 124, 12), 8);
    const prefix = text(block, 345, 155);
    found.push({ path: (prefix ? prefix + "/" : "") + text(block, 0, 100), data: bytes.slice(at + 512, at + 512 + size) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  expect(bytes.length).toBe(at + 1024); // the end: two zero blocks
  expect(bytes.slice(at).every((b) => b === 0)).toBe(true);
  return found;
}

describe("packFolder", () => {
  it("packs each file under the folder's name, byte for byte, in blocks", async () => {
    const exact = new File([new Uint8Array(512).fill(7)], "shot.1001.exr");
    const odd = new File([new Uint8Array(700).fill(9)], "shot.1002.exr");
    const tar = packFolder("plates", [exact, odd]);
    expect([tar.name, tar.type, tar.size]).toEqual(["plates.tar", "application/x-tar", 512 + 512 + 512 + 1024 + 1024]);
    const found = entries(new Uint8Array(await tar.arrayBuffer()));
    expect(found.map((e) => e.path)).toEqual(["plates/shot.1001.exr", "plates/shot.1002.exr"]);
    expect(found[0].data).toEqual(new Uint8Array(512).fill(7));
    expect(found[1].data).toEqual(new Uint8Array(700).fill(9));
  });

  it("splits a long path into ustar's prefix and name, and refuses one too long for it", async () => {
    const folder = "f".repeat(120);
    const found = entries(new Uint8Array(await packFolder(folder, [new File(["x"], "shot.0001.dpx")]).arrayBuffer()));
    expect(found[0].path).toBe(`${folder}/shot.0001.dpx`);
    expect(() => packFolder("plates", [new File(["x"], `${"n".repeat(101)}.png`)])).toThrow(/has too long a name for a tar/);
  });
});
