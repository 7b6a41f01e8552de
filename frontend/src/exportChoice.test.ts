import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_EXPORT, exportChoice, lastChoice, partOf, saveExportChoice, toJobExport, type ExportChoice, type JobExport } from "./exportChoice";

beforeEach(() => localStorage.clear());

const choice = (over: Partial<ExportChoice> = {}): ExportChoice => ({ ...DEFAULT_EXPORT, ...over });

describe("toJobExport", () => {
  it("sends a colour the server takes: the typed one tidied, or the default when it is none", () => {
    // "Ready" was shown and the server then refused the job (422) over an unused colour field.
    expect(toJobExport(choice({ background: "xyz" })).background).toBe("00ff00");
    expect(toJobExport(choice({ background: "" })).background).toBe("00ff00");
    expect(toJobExport(choice({ formats: ["composite_mp4"], background: "  #FF00ff " })).background).toBe("ff00ff");
  });

  it("sends the edge adjustment, and a job's export reads back as the choice it was made from", () => {
    const chosen = choice({ formats: ["exr"], background: "123456", rawColour: true, mattes: "both", shiftEdge: -2.5, feather: 1.5, reduceChatter: true });
    const sent = toJobExport(chosen);
    expect(sent).toEqual({ formats: ["exr"], background: "123456", fg: "raw", mattes: "both", shift_edge: -2.5, feather: 1.5, reduce_chatter: true });
    expect(exportChoice({ id: "j1", export: sent })).toEqual(chosen);
  });
});

describe("edge adjustment of a job's export choice", () => {
  it("is none by default and for a job the server kept before there was one", () => {
    expect(exportChoice({ id: "new" })).toMatchObject({ shiftEdge: 0, feather: 0, reduceChatter: false });
    const old = { formats: ["alpha_png"], background: "00ff00", fg: null, mattes: "objects" }; // as such a server sends it
    expect(exportChoice({ id: "old", export: old as unknown as JobExport })).toMatchObject({ shiftEdge: 0, feather: 0, reduceChatter: false });
  });

  it("keeps what the download menu chose, per job", () => {
    saveExportChoice(choice({ shiftEdge: 3, feather: 0.5, reduceChatter: true }), "j1");
    expect(exportChoice({ id: "j1" })).toMatchObject({ shiftEdge: 3, feather: 0.5, reduceChatter: true });
    expect(exportChoice({ id: "j2" })).toMatchObject({ shiftEdge: 0, feather: 0, reduceChatter: false });
  });

  it("clamps stored or served values into the API's bounds and reads anything else as none", () => {
    const stored = (v: object) => {
      localStorage.setItem("vidmatte.formats.j1", JSON.stringify({ formats: ["alpha_png"], background: "00ff00", ...v }));
      const { shiftEdge, feather } = exportChoice({ id: "j1" });
      return [shiftEdge, feather];
    };
    expect(stored({ shiftEdge: 50, feather: 99 })).toEqual([32, 32]);
    expect(stored({ shiftEdge: -50, feather: -1 })).toEqual([-32, 0]);
    expect(stored({ shiftEdge: "3", feather: null })).toEqual([0, 0]);
    expect(stored({})).toEqual([0, 0]);
    localStorage.clear();
    const served = { formats: ["alpha_png"], background: "00ff00", fg: null, mattes: "objects" as const, shift_edge: -40, feather: Number.NaN, reduce_chatter: false };
    expect(exportChoice({ id: "j1", export: served })).toMatchObject({ shiftEdge: -32, feather: 0 });
  });

  it("reduces chatter only when it is true, stored or served", () => {
    for (const reduceChatter of ["true", 1, null]) {
      localStorage.setItem("vidmatte.formats.j1", JSON.stringify({ formats: ["alpha_png"], background: "00ff00", reduceChatter }));
      expect(exportChoice({ id: "j1" }).reduceChatter).toBe(false);
    }
    localStorage.clear();
    const served = { formats: ["alpha_png"], background: "00ff00", fg: null, mattes: "objects" as const, shift_edge: 0, feather: 0, reduce_chatter: true };
    expect(exportChoice({ id: "j1", export: served }).reduceChatter).toBe(true);
  });
});

describe("part of a job's frames downloaded", () => {
  it("is kept within the job's range, none when stored malformed or covering the whole range", () => {
    const made = { id: "j1", start: 2, end: 11 };
    expect(partOf({ start: 4, end: 6 }, made)).toEqual({ start: 4, end: 6 });
    expect(partOf({ start: 0, end: 40 }, made)).toBeNull(); // all of it: the plain archive
    expect(partOf({ start: 0, end: 5 }, made)).toEqual({ start: 2, end: 5 });
    expect(partOf({ start: 12, end: 20 }, made)).toBeNull(); // none of it
    for (const bad of [null, "4-6", { start: 4 }, { start: 4.5, end: 6 }, { start: "4", end: "6" }]) expect(partOf(bad, made)).toBeNull();
    localStorage.setItem("vidmatte.formats.j1", JSON.stringify({ formats: ["exr"], part: { start: 4, end: 60 } }));
    expect(exportChoice(made).part).toEqual({ start: 4, end: 11 });
  });

  it("stays with its job: never sent with a new job, never where a new Matting dialog starts", () => {
    saveExportChoice({ ...DEFAULT_EXPORT, part: { start: 3, end: 4 } }, "j1");
    expect(exportChoice({ id: "j1", start: 0, end: 9 }).part).toEqual({ start: 3, end: 4 });
    expect(exportChoice({ id: "j2", start: 0, end: 9 }).part ?? null).toBeNull();
    expect(toJobExport(exportChoice({ id: "j1", start: 0, end: 9 }))).not.toHaveProperty("part");
    expect(lastChoice()).not.toHaveProperty("part");
  });
});
