// A folder of images, picked (<input webkitdirectory>) or dropped, as the one tar the upload
// sends: its files, not its subfolders' (as `vidmatte matte FOLDER` reads a folder).
import { packFolder } from "./tar";

/** Why a folder is refused when it holds no files of its own. */
export const NO_FILES = "The folder holds no files of its own (images in subfolders are not read).";

/** The folder a picker chose, from its files' paths (`plates/shot.1001.exr`), packed; null
 * when it holds no file of its own. */
export function pickedFolder(files: File[]): File | null {
  const top = files.filter((f) => f.webkitRelativePath.split("/").length === 2);
  if (!top.length) return null;
  return packFolder(top[0].webkitRelativePath.split("/")[0], byName(top));
}

/** The first folder among dropped items, packed (its entries can be asked for only during
 * the drop event, so this looks at once and reads afterwards); null at once when none is a
 * folder. */
export function droppedFolder(items: DataTransferItemList | DataTransferItem[] | undefined): Promise<File> | null {
  const entry = [...(items ?? [])].map((i) => i.webkitGetAsEntry?.()).find((e): e is FileSystemDirectoryEntry => !!e?.isDirectory);
  return entry ? packEntry(entry) : null;
}

async function packEntry(folder: FileSystemDirectoryEntry): Promise<File> {
  const files = await Promise.all((await allEntries(folder)).filter((e): e is FileSystemFileEntry => e.isFile).map(fileOf));
  // Said here, as for a picked folder: an empty tar reached the server as no video at all.
  if (!files.length) throw new Error(NO_FILES);
  return packFolder(folder.name, byName(files));
}

/** Every entry of a folder: a reader hands them out in batches until an empty one. */
async function allEntries(folder: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = folder.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return all;
    all.push(...batch);
  }
}

const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

/** In name order: the server orders frames by their numbers anyway; this keeps the tar tidy. */
const byName = (files: File[]) => [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
