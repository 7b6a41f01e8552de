// A folder picked or dropped becomes one tar of its own files (not its subfolders').
import { describe, expect, it } from "vitest";
import { droppedFolder, pickedFolder } from "./folders";

/** A File as a folder picker gives it: with its path under the chosen folder. */
function picked(path: string): File {
  const file = new File([path], path.split("/").pop()!);
  Object.defineProperty(file, "webkitRelativePath", { value: path });
  return file;
}

/** A tar's member paths, in order (headers only: the names at each header block). */
async function paths(tar: File): Promise<string[]> {
  const bytes = new Uint8Array(await tar.arrayBuffer());
  const names = [];
  for (let at = 0; bytes[at] !== 0; ) {
    names.push(new TextDecoder().decode(bytes.slice(at, at + 100)).replace(/\0.*$/s, ""));
    const size = parseInt(new TextDecoder().decode(bytes.slice(at + 124, at + 135)), 8);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

describe("folders", () => {
  it("packs a picked folder's own files, in name order, not its subfolders'", async () => {
    const tar = pickedFolder([picked("plates/shot.1002.exr"), picked("plates/proxy/shot.1001.jpg"), picked("plates/shot.1001.exr")])!;
    expect(tar.name).toBe("plates.tar");
    expect(await paths(tar)).toEqual(["plates/shot.1001.exr", "plates/shot.1002.exr"]);
    expect(pickedFolder([picked("plates/proxy/shot.1001.jpg")])).toBeNull();
  });

  it("reads a dropped folder's entries in all their batches, and takes only its files", async () => {
    const file = (name: string) => ({ isFile: true, isDirectory: false, name, file: (ok: (f: File) => void) => ok(new File([name], name)) });
    const batches = [[file("b.0002.png"), { isFile: false, isDirectory: true, name: "proxy" }], [file("b.0001.png")], []];
    const folder = { isFile: false, isDirectory: true, name: "b", createReader: () => ({ readEntries: (ok: (e: unknown[]) => void) => ok(batches.shift()!) }) };
    const items = [{ webkitGetAsEntry: () => null }, { webkitGetAsEntry: () => folder }] as unknown as DataTransferItem[];
    const tar = (await droppedFolder(items))!;
    expect(tar.name).toBe("b.tar");
    expect(await paths(tar)).toEqual(["b/b.0001.png", "b/b.0002.png"]);
    expect(droppedFolder([{ webkitGetAsEntry: () => file("clip.mp4") }] as unknown as DataTransferItem[])).toBeNull(); // at once
    expect(droppedFolder(undefined)).toBeNull();
  });

  it("refuses a dropped folder with no files of its own, as a picked one (not an empty tar)", async () => {
    const proxy = { isFile: false, isDirectory: true, name: "proxy" };
    const batches = [[proxy], []];
    const folder = { isFile: false, isDirectory: true, name: "b", createReader: () => ({ readEntries: (ok: (e: unknown[]) => void) => ok(batches.shift()!) }) };
    const items = [{ webkitGetAsEntry: () => folder }] as unknown as DataTransferItem[];
    await expect(droppedFolder(items)).rejects.toThrow("The folder holds no files of its own (images in subfolders are not read).");
  });
});
